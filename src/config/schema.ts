import Type from 'typebox';

const Obj = <T extends Type.TProperties>(props: T, description: string) =>
  Type.Object(props, { additionalProperties: false, default: {}, description });

/**
 * Every setting Beacon reads. Flags, `BEACON_*` variables and the YAML file all map onto these
 * paths; docs/configuration.md is generated from the descriptions here.
 */
export const ConfigSchema = Type.Object(
  {
    port: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: 8080,
      description: 'TCP port the API listens on (0 picks a free one).',
    }),
    host: Type.String({ default: '0.0.0.0', description: 'Address the API binds.' }),
    publicUrl: Type.Optional(
      Type.String({
        description: 'URL users reach Beacon at, printed at start-up. Defaults to http://localhost:PORT.',
      }),
    ),
    dataDir: Type.String({
      default: './data',
      description: 'Directory for embedded storage (log and store files, spools).',
    }),
    log: Type.String({
      default: 'embedded',
      // Hosts are names, IPv4 or bracketed IPv6 addresses; a port is required (see kafka-url.ts).
      pattern: String.raw`^(embedded|kafka://(([A-Za-z0-9._-]+|\[[0-9A-Fa-f:]+\]):[0-9]{1,5})(,\s*([A-Za-z0-9._-]+|\[[0-9A-Fa-f:]+\]):[0-9]{1,5})*/?)$`,
      shape: '`embedded` or kafka://host:port[,host:port]',
      description: 'Log backend: `embedded`, or a `kafka://host:port[,host:port]` URL.',
    }),
    store: Type.String({
      default: 'sqlite',
      pattern: String.raw`^(sqlite|postgres(ql)?://[^\s]+)$`,
      shape: '`sqlite` or postgres://user[:password]@host[:port]/database',
      description: 'Store backend: `sqlite`, or a `postgres://…` URL.',
    }),
    sqliteCacheMiB: Type.Integer({
      minimum: 1,
      maximum: 4096,
      default: 8,
      description:
        'SQLite page cache of each connection to the embedded store and log, in MiB. A connection fills its cache as it works and never gives it back, so it is part of the process’s memory, times the connections (`beacon start` has seven); pages beyond it are read through the operating system’s cache.',
    }),
    adminToken: Type.Optional(
      Type.String({
        minLength: 24,
        description: 'Admin token for the default tenant, created on first start instead of a random one.',
      }),
    ),
    logLevel: Type.Union(
      [
        Type.Literal('fatal'),
        Type.Literal('error'),
        Type.Literal('warn'),
        Type.Literal('info'),
        Type.Literal('debug'),
        Type.Literal('trace'),
        Type.Literal('silent'),
      ],
      { default: 'info', description: 'Level of the JSON logs on stdout.' },
    ),
    http: Obj(
      {
        requestTimeoutMs: Type.Integer({
          minimum: 100,
          default: 30000,
          description:
            'A request must arrive whole within this long; a slower client gets 408 and is disconnected.',
        }),
        pageBytes: Type.Integer({
          minimum: 65536,
          default: 1048576,
          description:
            'Most stored payload one page of a listing carries (GET /v1/messages): a page ends early, with a `next` cursor, once it holds this much. The page is serialized on the event loop, so this bounds how long it holds every other request (bench/hostile.ts).',
        }),
        trustProxy: Type.String({
          default: 'false',
          pattern: '^(false|true|[0-9]+|[0-9A-Fa-f.:/]+(\\s*,\\s*[0-9A-Fa-f.:/]+)*)$',
          description:
            "Whose `X-Forwarded-For` decides the client address (the cookieless visitor id and the per-address collect limit use it). `false`: nobody, the connection's own address. A comma-separated list of proxy addresses or CIDR ranges (`127.0.0.1,10.0.0.0/8`): the address the nearest untrusted hop reported. A number N: the Nth address from the right. `true`: the left-most address, which any client can forge unless every request passes a proxy that overwrites the header.",
        }),
      },
      'HTTP server limits and the reverse proxy in front.',
    ),
    ingest: Obj(
      {
        maxMessageBytes: Type.Integer({
          minimum: 64,
          default: 65536,
          description: 'Largest single message, in bytes of JSON.',
        }),
        maxBatchItems: Type.Integer({
          minimum: 1,
          maximum: 100000,
          default: 1000,
          description: 'Most messages in one batch request.',
        }),
        maxBatchBytes: Type.Integer({
          minimum: 1024,
          default: 4194304,
          description:
            'Largest batch request body, in bytes. A batch is parsed, checked and committed on the event loop: 4 MiB holds it for about 100 ms on a small machine (bench/hostile.ts), 16 MiB for half a second, while every other request waits.',
        }),
        maxJsonDepth: Type.Integer({
          minimum: 1,
          maximum: 1000,
          default: 128,
          description:
            'Deepest nesting of arrays and objects a JSON body may have (JSON_TOO_DEEP beyond). Every value accepted must be encoded again for the log, the store and responses, which recurses once per level.',
        }),
        queueMax: Type.Integer({
          minimum: 1,
          default: 100000,
          description: 'Records waiting for the log commit before ingest answers 503.',
        }),
      },
      'Message ingestion limits.',
    ),
    rateLimit: Obj(
      {
        perSecond: Type.Number({
          minimum: 0,
          default: 2000,
          description: 'Requests per second each token may sustain (0 turns limiting off).',
        }),
        burst: Type.Integer({
          minimum: 1,
          default: 4000,
          description: 'Requests a token may make at once before the rate applies.',
        }),
      },
      'Per-token token bucket applied to every authenticated request.',
    ),
    live: Obj(
      {
        bufferBytes: Type.Integer({
          minimum: 1024,
          default: 1048576,
          description: 'Bytes a WebSocket subscriber may have unsent before frames are dropped.',
        }),
        slowPolicy: Type.Union([Type.Literal('drop'), Type.Literal('disconnect')], {
          default: 'drop',
          description:
            'What happens to a subscriber whose buffer is full: drop frames (and say how many), or disconnect it.',
        }),
        pingIntervalMs: Type.Integer({
          minimum: 1000,
          default: 30000,
          description: 'How often the server pings each WebSocket; a peer that misses a ping is closed.',
        }),
        maxSubscribers: Type.Integer({
          minimum: 1,
          default: 50000,
          description: 'Most WebSocket subscribers one API process serves.',
        }),
      },
      'Live stream (WebSocket) fan-out.',
    ),
    sink: Obj(
      {
        batchSize: Type.Integer({
          minimum: 1,
          default: 5000,
          description: 'Most records a sink projects in one store transaction.',
        }),
        port: Type.Integer({
          minimum: 0,
          maximum: 65535,
          default: 0,
          description:
            '`beacon sink` serves `/metrics`, `/healthz` and `/readyz` on this port, bound to `host` (0 picks a free one and prints it).',
        }),
        thread: Type.Boolean({
          default: false,
          description:
            '`beacon start` runs its sinks on a worker thread of their own, so storing rows never competes with accepting them on one event loop. It costs a second V8 isolate (about 55 MB of RSS) and wins only under heavy ingest (tens of thousands of records a second); off, the sinks run on the API’s event loop with its connections, and the one-box process stays within 256 MB.',
        }),
      },
      'Sinks that project the log into the store.',
    ),
    embeddedLog: Obj(
      {
        retentionDays: Type.Integer({
          minimum: 0,
          default: 0,
          description:
            'Days the embedded log keeps records, compressed in its archive past the hot window; 0 keeps them forever. Replay of sensor events and reprocessing of page views read the log, so they reach back this far. Checks are not archived: the store keeps them (see `monitor.retentionDays`).',
        }),
        hotMinutes: Type.Integer({
          minimum: 1,
          maximum: 10080,
          default: 10,
          description:
            'Minutes records stay in the chunks they were committed in. After that they are merged into zstd-compressed archive chunks (about a tenth of the size), or, for checks once their sink has stored them, deleted. Sinks read the hot window within seconds; one that fell further behind reads the archive, only a little slower.',
        }),
        idempotencyHours: Type.Integer({
          minimum: 1,
          default: 24,
          description:
            'Hours a client’s `Idempotency-Key` is remembered, as payment APIs do: a retry within it is answered with the first record, a key reused after it is a new record.',
        }),
        sweepIntervalMs: Type.Integer({
          minimum: 1000,
          default: 60_000,
          description:
            'How often the log’s upkeep runs: archiving past the hot window, and deleting what the store holds, what retention expired and idempotency keys past their window.',
        }),
        writerThread: Type.Boolean({
          default: false,
          description:
            'Run each group commit, fsync included, on a writer thread so the API keeps serving meanwhile. Off by default: handing each commit to a thread costs more than the fsync it overlaps on a machine with cores to spare (bench/ingest.ts prints both side by side); it can help on a heavily loaded host. In `beacon probe` the thread costs about 30 MB RSS (a second V8 isolate).',
        }),
      },
      'The embedded log (`log: embedded`).',
    ),
    shutdown: Obj(
      {
        timeoutMs: Type.Integer({
          minimum: 100,
          default: 15000,
          description: 'How long a graceful shutdown may take before the process exits anyway.',
        }),
      },
      'Graceful shutdown.',
    ),
    occupancy: Obj(
      {
        resetTime: Type.String({
          default: '04:00',
          pattern: '^(([01][0-9]|2[0-3]):[0-5][0-9])?$',
          description:
            'Local time (HH:MM, 24 h) at which corrected counts restart from zero each day, clearing drift from missed crossings; empty turns the reset off. Raw counts never reset.',
        }),
        timeZone: Type.String({
          default: 'UTC',
          description: 'IANA time zone of `occupancy.resetTime`, e.g. Europe/Berlin.',
        }),
        neverNegative: Type.Boolean({
          default: true,
          description: 'Corrected counts never drop below zero (an exit from an empty space is ignored).',
        }),
        provisionalWindowMs: Type.Integer({
          minimum: 0,
          default: 172800000,
          description:
            'Figures for times within this long before now are reported as provisional: late events may still change them.',
        }),
        lateAfterMs: Type.Integer({
          minimum: 0,
          default: 60000,
          description:
            'An event received more than this long after its timestamp is late; charts mark where late events changed history.',
        }),
        capacityAlertMinutes: Type.Integer({
          minimum: 1,
          maximum: 1440,
          default: 10,
          description:
            'A space with a capacity alerts once its count has stayed over it this many minutes; a space may set its own.',
        }),
        silentAfterMinutes: Type.Integer({
          minimum: 1,
          default: 240,
          description:
            'A placed sensor is silent after this many minutes without events within the open hours of the space it watches.',
        }),
        driftRatio: Type.Number({
          minimum: 0,
          maximum: 1,
          default: 0.05,
          description:
            'A doorway drifts on a day when people in and out differ by more than this share of the larger (and by at least occupancy.driftMinImbalance): a sensor misses crossings, and a correction is due.',
        }),
        driftMinImbalance: Type.Integer({
          minimum: 1,
          default: 5,
          description: 'The fewest people a day’s in/out difference must reach before a doorway drifts.',
        }),
        alertIntervalMs: Type.Integer({
          minimum: 100,
          default: 15000,
          description:
            'How often capacity, silent-sensor and drift alerts are evaluated (by one process at a time per store).',
        }),
        alertWebhookUrl: Type.Optional(
          Type.String({
            pattern: '^https?://',
            description:
              'Where occupancy alerts are POSTed as JSON (one event per request), besides the live stream; none when unset.',
          }),
        ),
        alertMaxAttempts: Type.Integer({
          minimum: 1,
          default: 10,
          description:
            'Deliveries of one alert notification are tried this many times, backing off from 1 s to 5 min, then given up (and listed as failed).',
        }),
      },
      'People counting (occupancy): corrections, reconciliation, capacity and sensor alerts.',
    ),
    analytics: Obj(
      {
        collectMaxBytes: Type.Integer({
          minimum: 256,
          default: 16384,
          description: 'Largest body `/v1/collect` (and one agent WebSocket frame) accepts, in bytes.',
        }),
        collectMaxEvents: Type.Integer({
          minimum: 1,
          maximum: 1000,
          default: 50,
          description: 'Most events in one collect request or frame.',
        }),
        sitePerSecond: Type.Number({
          minimum: 0,
          default: 1000,
          description: 'Collect requests per second each site may sustain (0 turns the limit off).',
        }),
        siteBurst: Type.Integer({
          minimum: 1,
          default: 5000,
          description: 'Collect requests a site may make at once before its rate applies.',
        }),
        addressPerSecond: Type.Number({
          minimum: 0,
          default: 10,
          description: 'Collect requests per second each client address may sustain (0 turns the limit off).',
        }),
        addressBurst: Type.Integer({
          minimum: 1,
          default: 60,
          description: 'Collect requests one client address may make at once before its rate applies.',
        }),
        tokenTtlSeconds: Type.Integer({
          minimum: 30,
          maximum: 86400,
          default: 900,
          description: 'Lifetime of access tokens issued by `POST /oauth/token`.',
        }),
        visitBudget: Type.Integer({
          minimum: 1000,
          default: 50000,
          description:
            'Most visits one goal, funnel, journey or retention answer reads; past it, a sample of visitors is read and counts are scaled up (the answer says so).',
        }),
        importMaxBytes: Type.Integer({
          minimum: 1024,
          default: 67108864,
          description: 'Largest import upload (all of its CSV files together), in bytes.',
        }),
        workerPollMs: Type.Integer({
          minimum: 100,
          default: 30000,
          description:
            'How often each API process looks for report mails due and imports queued (both also start at once when made here).',
        }),
        smtp: Obj(
          {
            host: Type.Optional(
              Type.String({
                description: 'SMTP server that sends scheduled reports; without it none are sent.',
              }),
            ),
            port: Type.Integer({ minimum: 1, maximum: 65535, default: 587, description: 'SMTP port.' }),
            security: Type.Union([Type.Literal('starttls'), Type.Literal('tls'), Type.Literal('none')], {
              default: 'starttls',
              description:
                '`starttls` (upgrade a plain connection, required), `tls` (TLS from the start, port 465), or `none` (plain text: only on a trusted network).',
            }),
            user: Type.Optional(Type.String({ description: 'SMTP user, when the server wants a login.' })),
            password: Type.Optional(Type.String({ description: 'SMTP password.' })),
            from: Type.Optional(
              Type.String({ description: 'Sender address of reports, e.g. `Beacon <reports@example.com>`.' }),
            ),
            caFile: Type.Optional(
              Type.String({
                description:
                  "PEM file of certificate authorities to trust besides the system's (a private mail server).",
              }),
            ),
          },
          'Mail for scheduled analytics reports.',
        ),
      },
      'Web analytics: collection limits, OAuth2 access tokens, visit-level analyses, imports and report mail.',
    ),
    monitor: Obj(
      {
        enabled: Type.Boolean({
          default: true,
          description:
            '`beacon start` runs the prober in-process (set false to run `beacon probe` elsewhere).',
        }),
        region: Type.String({
          minLength: 1,
          maxLength: 64,
          pattern: '^[A-Za-z0-9._-]+$',
          default: 'local',
          description:
            'Region this prober reports; agents in different regions each keep their own check rows.',
        }),
        shard: Type.String({
          pattern: '^[0-9]+/[0-9]+$',
          default: '0/1',
          description:
            'Share of the targets this prober checks, `i/n` (consistent hashing); equal shards are redundant.',
        }),
        concurrency: Type.Integer({
          minimum: 1,
          default: 1000,
          description: 'Most checks in flight at once.',
        }),
        perHost: Type.Integer({
          minimum: 1,
          default: 4,
          description:
            'Most checks in flight against one host:port (a politeness limit). A host whose checks take longer than its targets’ interval allows at this limit misses slots, counted as `per-host-limit` in `beacon_monitor_skipped_slots_total` and on the next check (`observed.missed`).',
        }),
        workers: Type.Integer({
          minimum: 0,
          maximum: 64,
          default: 0,
          description:
            'Worker threads that run checks (1: the main thread). Each host’s targets are checked in one thread, so per-host limits hold; the global `concurrency` is shared out. 0 (auto): in `beacon probe` the main thread while the targets are due at most 500 checks a second, and past that worker threads, one per 500, up to one per core (decided when the targets are read, at start-up and on each change; threads are never removed); in `beacon start` the main thread.',
        }),
        targetsFile: Type.Optional(
          Type.String({
            description: 'YAML file of targets (monitoring as code), watched and reloaded on change.',
          }),
        ),
        refreshMs: Type.Integer({
          minimum: 100,
          default: 5000,
          description: 'How often the prober re-reads targets from the store.',
        }),
        spoolMaxBytes: Type.Integer({
          minimum: 1024,
          default: 67108864,
          description:
            'Disk the spool may use for checks while the log is unavailable; beyond it checks are dropped and counted.',
        }),
        retentionDays: Type.Integer({
          minimum: 1,
          default: 30,
          description:
            'Days raw checks are kept, and minute rollups with them; a block goes once its whole period is past. Hour and day rollups are kept longer.',
        }),
        pingCommand: Type.String({
          minLength: 1,
          default: 'ping',
          description:
            "The system ping that icmp checks run (iputils; Node has no ICMP sockets). It needs unprivileged ICMP (net.ipv4.ping_group_range including Beacon's group) or cap_net_raw.",
        }),
        compaction: Obj(
          {
            enabled: Type.Boolean({
              default: true,
              description:
                'Sinks (`beacon start`, `beacon sink`) fold checks into compressed blocks in the background; `beacon compact` does it on demand either way.',
            }),
            periodHours: Type.Integer({
              minimum: 1,
              maximum: 168,
              default: 24,
              description:
                'Hours of one target’s checks in one region that make one block, counted from the epoch (24: a UTC day). Until its period ends (plus `afterMinutes`), its checks stay hot rows.',
            }),
            afterMinutes: Type.Integer({
              minimum: 0,
              maximum: 1440,
              default: 10,
              description:
                'How long after a period ends its checks are compacted. A check that arrives later still counts once: it waits in a hot row and is merged into its block at the next pass.',
            }),
            intervalMs: Type.Integer({
              minimum: 1000,
              default: 900000,
              description:
                'How often background compaction looks for late checks to merge into the blocks of closed periods (they are read from hot rows until then). A period is compacted when it ends (plus `afterMinutes`) whatever this is.',
            }),
          },
          'Compaction of checks into blocks of a few bytes a check.',
        ),
        badges: Obj(
          {
            rateLimitPerMinute: Type.Integer({
              minimum: 0,
              default: 600,
              description:
                "Badge requests (`/badge/{target}/{kind}.svg`) one client address may make per minute (bursts up to this, refilled evenly); 0 turns the limit off. Generous by default: README views reach Beacon through a few caching proxies (GitHub's camo). The address is `request.ip`, so set `http.trustProxy` behind a proxy.",
            }),
          },
          'Badges (SVG) for READMEs and pages.',
        ),
        statusPages: Obj(
          {
            cacheSeconds: Type.Integer({
              minimum: 0,
              maximum: 3600,
              default: 30,
              description:
                'How long a public status page (`/status/{slug}`, its JSON and feed) is reused: each process renders a page at most once per this, and browsers and proxies may keep it as long (`Cache-Control: public, max-age`). A client holding the page gets 304 while its ETag holds.',
            }),
            rateLimitPerMinute: Type.Integer({
              minimum: 0,
              default: 120,
              description:
                'Requests for public status pages one client address may make per minute (bursts up to this, refilled evenly); 0 turns the limit off. The address is `request.ip`, so set `http.trustProxy` behind a proxy.',
            }),
            maxTargets: Type.Integer({
              minimum: 1,
              maximum: 1000,
              default: 100,
              description:
                'Most targets one status page shows. A page whose groups list more is refused; a tag group that grows past it shows the first ones and says how many are left out.',
            }),
          },
          'Public status pages.',
        ),
      },
      'Uptime monitor: prober, targets file, spool, retention and compaction.',
    ),
    notify: Obj(
      {
        enabled: Type.Boolean({
          default: true,
          description:
            '`beacon start` and `beacon api` deliver queued notifications (any number of processes may: each notification is sent by one).',
        }),
        pollMs: Type.Integer({
          minimum: 50,
          default: 500,
          description: 'How often a process looks for notifications due.',
        }),
        leaseMs: Type.Integer({
          minimum: 1000,
          default: 60000,
          description:
            'How long a claimed notification is one process’s; if it dies meanwhile, another sends it after this.',
        }),
        batchSize: Type.Integer({
          minimum: 1,
          maximum: 10000,
          default: 1000,
          description:
            'Most notifications claimed at once (those to one channel go as one message where the service allows).',
        }),
        timeoutMs: Type.Integer({
          minimum: 100,
          default: 10000,
          description: 'Longest a service may take to answer one send.',
        }),
        maxAttempts: Type.Integer({
          minimum: 1,
          default: 12,
          description:
            'Attempts per notification before it is given up (kept in the delivery history as failed).',
        }),
        backoffMs: Type.Integer({
          minimum: 10,
          default: 2000,
          description:
            "First retry delay; it doubles per attempt up to notify.maxBackoffMs (a service's Retry-After wins).",
        }),
        maxBackoffMs: Type.Integer({
          minimum: 10,
          default: 300000,
          description: 'Longest retry delay.',
        }),
        historyDays: Type.Integer({
          minimum: 1,
          default: 30,
          description: 'Days sent and failed notifications are kept as delivery history.',
        }),
        serviceUrls: Type.Record(
          Type.String({ pattern: '^[a-z]+$' }),
          Type.String({ pattern: '^https?://[^/?#]+/?$' }),
          {
            default: {},
            description:
              'Origins to use instead of a hosted service’s own, by channel kind (slack, discord, telegram, pushover, pagerduty, opsgenie, gchat, ntfy): a regional endpoint, a proxy, or a test double.',
          },
        ),
      },
      'Notifications: delivery of the outbox to channels.',
    ),
    postgres: Obj(
      {
        poolSize: Type.Integer({
          minimum: 2,
          default: 10,
          description: 'Connections each process keeps to PostgreSQL (store `postgres://…` only).',
        }),
        partitionsAhead: Type.Integer({
          minimum: 1,
          default: 7,
          description: 'Daily partitions kept ready after today (native partitioning; not TimescaleDB).',
        }),
        retentionDays: Type.Integer({
          minimum: 0,
          default: 0,
          description:
            'Rows older than this many days are dropped, a whole partition or chunk at a time (0 keeps everything).',
        }),
        maintenanceIntervalMs: Type.Integer({
          minimum: 0,
          default: 3600000,
          description: 'How often partitions are created ahead and retention applied (0: only at start-up).',
        }),
        queryTimeoutMs: Type.Integer({
          minimum: 0,
          default: 30000,
          description:
            'Longest a statement may run, or a connection stay silent inside a transaction, before it counts as lost: a network partition drops packets without an error. The client gives up (503 `STORE_UNAVAILABLE`; sinks retry the batch) and the server ends the statement or transaction, releasing its locks. Migrations are exempt; 0 waits forever.',
        }),
      },
      'PostgreSQL store: pool, time partitions and retention.',
    ),
    kafka: Obj(
      {
        topicPrefix: Type.String({
          pattern: '^[A-Za-z0-9._-]*$',
          default: 'beacon.',
          description:
            'Prepended to topic names: `beacon.messages`, `beacon.checks`, … and `beacon.dead-letter`.',
        }),
        partitions: Type.Integer({
          minimum: 1,
          default: 6,
          description:
            'Partitions per topic when `beacon setup` creates it; sinks in one group share them, so it caps useful sinks per stream.',
        }),
        replicationFactor: Type.Integer({
          minimum: 1,
          default: 1,
          description: 'Replicas per partition when `beacon setup` creates a topic; use 3 on a real cluster.',
        }),
        minInsyncReplicas: Type.Integer({
          minimum: 1,
          default: 1,
          description:
            'Topic config `min.insync.replicas` set by `beacon setup`: replicas that must hold a record before Kafka acknowledges it (producers use acks=all), so ingest answers 503 when fewer are in sync. At most `kafka.replicationFactor`; use 2 with a factor of 3, so one broker may be down.',
        }),
        compression: Type.Union(
          [
            Type.Literal('zstd'),
            Type.Literal('lz4'),
            Type.Literal('gzip'),
            Type.Literal('snappy'),
            Type.Literal('none'),
          ],
          { default: 'zstd', description: 'Compression of produced batches.' },
        ),
        clientId: Type.String({
          default: 'beacon',
          description: 'Kafka client id prefix, seen in broker logs and quotas.',
        }),
        requestTimeoutMs: Type.Integer({
          minimum: 100,
          default: 5000,
          description: 'Longest Kafka may take to acknowledge; past it ingest answers 503 LOG_UNAVAILABLE.',
        }),
        recentKeys: Type.Integer({
          minimum: 0,
          default: 100000,
          description:
            'Idempotency keys each API process remembers, so a retry reaching the same process gets the first answer.',
        }),
      },
      'Kafka log backend (used when `log` is a kafka:// URL).',
    ),
  },
  { additionalProperties: false },
);

export type Config = Type.Static<typeof ConfigSchema>;
