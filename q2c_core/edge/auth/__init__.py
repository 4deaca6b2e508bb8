"""Who may call q2c: bearer tokens (JWT) and client certificates, scopes per RPC, refusals kept."""
