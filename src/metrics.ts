import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The service's metrics on one registry, built per process (tests build one per app). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by route, method and status code.',
      labelNames: ['route', 'method', 'status'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route, method and status code.',
      labelNames: ['route', 'method', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    webhookEvents: new Counter({
      name: 'webhook_events_total',
      help: 'Webhook events by outcome (accepted, duplicate, stale, rejected) and rejection reason.',
      labelNames: ['outcome', 'reason'] as const,
      registers: [registry],
    }),
    webhookRequestsRefused: new Counter({
      name: 'webhook_requests_refused_total',
      help: 'Webhook requests refused as a whole, by reason (unauthorized, payload_too_large, ...).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    workflowEvents: new Counter({
      name: 'workflow_events_total',
      help: 'Event runs by result (completed_<outcome>, failed, superseded).',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    eventLatency: new Histogram({
      name: 'workflow_event_latency_seconds',
      help:
        'Time from an event entering the queue (received, or queued again by an operator) to its completion, ' +
        'by outcome; for outcome="enriched", webhook to note.',
      labelNames: ['outcome'] as const,
      // Seconds when the queue is short, up to the retry window (12 h) when a provider is down.
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14_400, 43_200],
      registers: [registry],
    }),
    leasesLost: new Counter({
      name: 'workflow_leases_lost_total',
      help: 'Runs stopped because their worker lost the lease on the event (a stall): another worker carries on.',
      registers: [registry],
    }),
    stepDuration: new Histogram({
      name: 'workflow_step_duration_seconds',
      help: 'Time a workflow step took, by step and result.',
      labelNames: ['step', 'result'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    stepErrors: new Counter({
      name: 'workflow_step_errors_total',
      help: 'Failed step attempts, by step and error code.',
      labelNames: ['step', 'code'] as const,
      registers: [registry],
    }),
    retries: new Counter({
      name: 'workflow_retries_total',
      help: 'Retries scheduled, by error code.',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    notes: new Counter({
      name: 'notes_total',
      help: 'Note ledger transitions, by state reached (pending, sent, unknown, found_existing).',
      labelNames: ['state'] as const,
      registers: [registry],
    }),
    providerCalls: new Counter({
      name: 'provider_calls_total',
      help: 'Calls to C2S, Diretrix and the Work API, by provider, operation and result (ok, not_found or an error code).',
      labelNames: ['provider', 'operation', 'result'] as const,
      registers: [registry],
    }),
    providerDuration: new Histogram({
      name: 'provider_call_duration_seconds',
      help: 'Time a provider call took, by provider and operation.',
      labelNames: ['provider', 'operation'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    retentionPurged: new Counter({
      name: 'retention_purged_total',
      help: 'Rows the retention purge cleared, by kind (event_payloads blanked, rejected_inputs and people deleted).',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    reconcileRuns: new Counter({
      name: 'reconcile_runs_total',
      help:
        'Scheduled reconciliation runs of this process, by result (succeeded, failed, skipped: another ' +
        'process was reconciling).',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    reconcileLeads: new Counter({
      name: 'reconcile_leads_total',
      help:
        'Leads reconciliation listed in C2S, by kind (listed; new: stored as an event no webhook brought; ' +
        'known: already stored).',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    backlog: new Gauge({
      name: 'webhook_backlog_events',
      help: 'Stored events not yet processed (received or processing), as last counted.',
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
