return { nested = true }
