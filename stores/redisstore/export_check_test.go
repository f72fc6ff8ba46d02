package redisstore

// CauseOf is the cause Check would name for err, from err alone (no probe).
func CauseOf(err error) error { return cause(err) }
