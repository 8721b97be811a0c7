"""What every Guabang service stands on, in four parts: the public contract (`contract/`),
RabbitMQ (`messaging/`), Redis (`storage/`) and small value types (`values/`); and the
configuration and start-up checks every process reads."""
