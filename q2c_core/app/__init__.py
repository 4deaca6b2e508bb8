"""Use cases over the domain: the command pipeline, hosts, reads, billing, delivery, audit."""
