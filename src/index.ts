import { app } from './app';
import { runScheduled } from './maintenance/scheduled';

/** Durable Object classes must be exported by the Worker's entry module. */
export { MemberSockets } from './messages/member-sockets.object';

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(runScheduled(controller, env));
  },
} satisfies ExportedHandler<Env>;
