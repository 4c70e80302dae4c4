"""Wire adapters: protobuf in, domain calls, protobuf out. No URL or rollout rules here."""
