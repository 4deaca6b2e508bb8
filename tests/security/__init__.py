"""Black-box security tests: a real gateway on a real port refuses what it must, and says why."""
