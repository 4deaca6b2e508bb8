"""Pure engagement domain: stdlib and pydantic only; time and ids come in as arguments."""
