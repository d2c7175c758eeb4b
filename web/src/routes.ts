import type { ComponentType } from 'preact';
import type { Session } from './auth.ts';
import { AnalyticsPage } from './pages/analytics.tsx';
import { LivePage } from './pages/live.tsx';
import { OccupancyPage } from './pages/occupancy.tsx';
import { SettingsPage } from './pages/settings.tsx';
import { SitesPage } from './pages/sites.tsx';
import { StatusPagesPage } from './pages/status-pages.tsx';
import { UptimePage } from './pages/uptime.tsx';

/** What every page is rendered with. */
export interface PageProps {
  readonly session: Session;
  readonly route: Route;
}

/** One entry of the navigation: adding a page is adding a route here. */
export interface Route {
  readonly path: string;
  readonly title: string;
  /** One line on what the page is for. */
  readonly summary: string;
  /** An SVG path on a 24×24 grid, drawn as a stroke. */
  readonly icon: string;
  readonly page: ComponentType<PageProps>;
}

export const ROUTES: readonly Route[] = [
  {
    path: '/live',
    title: 'Live',
    summary: 'Messages as they arrive.',
    icon: 'M3 12h4l3-8 4 16 3-8h4',
    page: LivePage,
  },
  {
    path: '/uptime',
    title: 'Uptime',
    summary: 'HTTP, TCP, DNS, push and ping checks: status, latency, incidents and alerts per target.',
    icon: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM8 12l3 3 5-6',
    page: UptimePage,
  },
  {
    path: '/analytics',
    title: 'Analytics',
    summary: 'Page views, visitors, referrers and top pages per site.',
    icon: 'M4 20V10M10 20V4M16 20v-7M22 20H2',
    page: AnalyticsPage,
  },
  {
    path: '/occupancy',
    title: 'Occupancy',
    summary: 'People counts per space, now and over time.',
    icon: 'M3 21V3h18v18H3zM3 12h18M12 3v18',
    page: OccupancyPage,
  },
  {
    path: '/sites',
    title: 'Sites',
    summary: 'Analytics sites and the snippet that tracks them.',
    icon: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM3 12h18M12 3c3 3 3 15 0 18M12 3c-3 3-3 15 0 18',
    page: SitesPage,
  },
  {
    path: '/settings',
    title: 'Alerts',
    summary: 'Notification channels, alert rules and maintenance windows.',
    icon: 'M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9M10.3 21a1.94 1.94 0 0 0 3.4 0',
    page: SettingsPage,
  },
  {
    path: '/status-pages',
    title: 'Status pages',
    summary: 'Public pages of your targets’ state and uptime, and the incident updates you publish.',
    icon: 'M4 4h16v16H4zM8 15v-3M12 15V9M16 15v-5',
    page: StatusPagesPage,
  },
];

/** Where `/` leads. */
export const HOME_PATH = '/live';

/** The route for `path`, ignoring a trailing slash. */
export function routeFor(path: string): Route | undefined {
  const normalized = path.length > 1 ? path.replace(/\/+$/, '') : path;
  return ROUTES.find((route) => route.path === normalized);
}
