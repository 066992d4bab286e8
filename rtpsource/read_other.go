//go:build !linux

package rtpsource

import (
	"context"
	"time"
)

// read reads the sockets until ctx is done, the streams go idle or a
// socket fails: a goroutine per socket here.
func (s *UDPSource) read(ctx context.Context, idle time.Duration) error {
	return s.readBlocking(ctx, idle)
}
