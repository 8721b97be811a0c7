"""RabbitMQ as the services use it: the topology, the outbox and its relay, reliable event
handlers, the ingress consumer, bounded RPC, background loops and the dead-letter queue."""
