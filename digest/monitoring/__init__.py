"""How the service is doing: scheduler job runs, poll outcomes, readiness checks, for health and metrics."""
