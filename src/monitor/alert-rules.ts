import Type from 'typebox';
import Value from 'typebox/value';
import { BeaconError } from '../errors/catalog.ts';
import { firstProblem } from '../wire/validation.ts';
import type { DefinitionSource } from './maintenance.ts';

/**
 * An alert rule: which targets (by id or tag; neither means all), which channels, after how many
 * failed checks, how often to remind, what else to tell, and how long to wait to group failures.
 */
export const AlertRuleSpecSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    targets: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
      default: [],
      maxItems: 1000,
      description: 'Target ids it applies to.',
    }),
    tags: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
      default: [],
      maxItems: 32,
      description: 'Targets with any of these tags too. With neither targets nor tags: every target.',
    }),
    channels: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
      minItems: 1,
      maxItems: 20,
      description: 'Channel ids to notify.',
    }),
    downAfter: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100,
        description:
          "Failed checks in a row (in any region) before this rule tells; default the target's downAfter (when its incident opens).",
      }),
    ),
    remindEveryMinutes: Type.Integer({
      minimum: 0,
      maximum: 10080,
      default: 0,
      description: 'While a target stays down, tell again this often (0: never).',
    }),
    notifyOn: Type.Object(
      {
        recovery: Type.Boolean({ default: true, description: 'Tell when a target is up again.' }),
        degraded: Type.Boolean({
          default: false,
          description: 'Tell when a target turns degraded, and back.',
        }),
        certificate: Type.Boolean({ default: true, description: 'Tell when a certificate nears expiry.' }),
      },
      { additionalProperties: false, default: {} },
    ),
    groupWindowSeconds: Type.Integer({
      minimum: 0,
      maximum: 3600,
      default: 10,
      description:
        'Wait this long after a first notification for more to the same channel, and send them as one message (0: at once).',
    }),
  },
  { additionalProperties: false },
);
export type AlertRuleSpec = Type.Static<typeof AlertRuleSpecSchema>;

/** A stored alert rule. */
export interface AlertRule extends AlertRuleSpec {
  readonly tenant: string;
  readonly id: string;
  readonly source: DefinitionSource;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Fills defaults and validates a rule from the API or the file; throws ALERT_RULE_INVALID. */
export function parseAlertRuleSpec(input: unknown): AlertRuleSpec {
  const value = Value.Default(AlertRuleSpecSchema, structuredClone(input ?? {}));
  if (!Value.Check(AlertRuleSpecSchema, value))
    throw new BeaconError('ALERT_RULE_INVALID', firstProblem(AlertRuleSpecSchema, value, 'rule'));
  return value;
}

/** True when a rule applies to a target: listed, tagged, or a rule for every target. */
export function ruleCovers(
  rule: Pick<AlertRuleSpec, 'targets' | 'tags'>,
  target: string,
  tags: readonly string[],
): boolean {
  if (rule.targets.length === 0 && rule.tags.length === 0) return true;
  return rule.targets.includes(target) || rule.tags.some((t) => tags.includes(t));
}
