"""rediscover: responder prediction for off-label cancer drugs (command line)."""
