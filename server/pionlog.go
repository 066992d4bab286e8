package server

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// pionLogs sends pion's logs (ICE, DTLS, SRTP, …) to lg, so that they take
// the server's format (one JSON object per event with -log-format json)
// rather than pion's own lines on stderr. As with pion's default (which
// prints errors only), its Error stays Error and the rest goes to Debug:
// its Warn is routine (closed connections at every session's end). Each
// record carries "component": "pion/SCOPE".
type pionLogs struct{ lg *slog.Logger }

// NewLogger implements logging.LoggerFactory.
func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{lg: f.lg.With("component", "pion/"+scope)}
}

type pionLogger struct{ lg *slog.Logger }

func (p pionLogger) log(l slog.Level, msg string) { p.lg.Log(context.Background(), l, msg) }

func (p pionLogger) Trace(msg string)                  { p.log(slog.LevelDebug-4, msg) }
func (p pionLogger) Tracef(format string, args ...any) { p.Trace(fmt.Sprintf(format, args...)) }
func (p pionLogger) Debug(msg string)                  { p.log(slog.LevelDebug-2, msg) }
func (p pionLogger) Debugf(format string, args ...any) { p.Debug(fmt.Sprintf(format, args...)) }
func (p pionLogger) Info(msg string)                   { p.log(slog.LevelDebug, msg) }
func (p pionLogger) Infof(format string, args ...any)  { p.Info(fmt.Sprintf(format, args...)) }
func (p pionLogger) Warn(msg string)                   { p.log(slog.LevelDebug, msg) }
func (p pionLogger) Warnf(format string, args ...any)  { p.Warn(fmt.Sprintf(format, args...)) }
func (p pionLogger) Error(msg string)                  { p.log(slog.LevelError, msg) }
func (p pionLogger) Errorf(format string, args ...any) { p.Error(fmt.Sprintf(format, args...)) }
