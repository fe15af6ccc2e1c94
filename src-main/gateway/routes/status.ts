/** `GET /api/status` (upstream shape, secrets removed) and `GET /api/metrics/latency`. */
import type { FastifyInstance } from 'fastify';
import { publicConfig } from '../../../src-shared/config/schema';
import type { GatewayContext } from '../context';

export function registerStatusRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  app.get('/api/status', async () => {
    const h = await ctx.engines.health();
    const cfg = ctx.config.get();
    const all = ctx.calls.all();
    return {
      uptime_s: Math.floor((Date.now() - ctx.startedAt) / 1000),
      total_calls: ctx.pipeline.counters.totalTurns,
      error_count: ctx.pipeline.counters.errors,
      active_sessions: all.filter((s) => !s.ended).length,
      ended_sessions: all.filter((s) => s.ended).length,
      ui_subscribers: ctx.bus.subscriberCount,
      agents: ctx.agents?.list() ?? [],
      mlx_audio: { mlx_audio: h.asr, piper: h.tts, ok: h.asr.ok && h.tts.ok },
      llm: { model: ctx.engines.current().llm.label(), configured: cfg.llm_base_url !== '', loaded: h.llm.ok, ...h.llm },
      engines: { selected: ctx.engines.selected, health: h },
      calls: ctx.calls.active().map((s) => s.summaryView()),
      config: publicConfig(cfg),
    };
  });

  app.get('/api/metrics/latency', async () => ctx.latency.summary());
}
