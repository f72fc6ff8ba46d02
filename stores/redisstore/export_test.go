package redisstore

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// LoadScripts loads every script into the server's cache (every master's,
// in a cluster), so that tests counting round trips do not count the EVAL
// fallback of a first call.
func LoadScripts(ctx context.Context, c redis.UniversalClient) error {
	for _, sc := range []*redis.Script{
		touchScript, updateScript, createScript, claimScript, restoreScript,
		deleteScript, revokeScript, indexAddScript, indexPutScript, indexPageScript,
	} {
		if err := sc.Load(ctx, c).Err(); err != nil {
			return err
		}
	}
	return nil
}

// WalkBatch is the COUNT of a walk's SCANs.
const WalkBatch = walkBatch
