package catalog

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"
)

// FuzzDispatch feeds NOTIFY payloads (anyone with access to the database
// can send one) to the listener's decoder: no panic, and what reaches a
// subscriber is an event of its recording with JSON data or none.
func FuzzDispatch(f *testing.F) {
	for _, s := range []string{
		`{"r":"rec","s":1,"n":"start","d":"{}","t":"2026-12-03T09:43:15.123456+00:00"}`,
		`{"r":"rec","s":2}`,
		`{"r":"rec","s":1,"n":"error","d":"{not json","t":"2026-12-03T09:43:15Z"}`,
		`{"r":"rec","s":-5,"n":"x","d":""}`,
		`{"r":"","s":1}`,
		`{"r":"rec","s":1,"n":"","d":"{}"}`,
		`not json`,
		``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		stored := func(ctx context.Context, id string, from int64) ([]Event, error) { return nil, nil }
		p := &Postgres{opts: Options{Logger: log}, hub: newHub(stored, log)}
		ch, cancel := p.hub.subscribe(context.Background(), "rec", 0)
		p.dispatch(payload)
		select {
		case ev := <-ch:
			if ev.Recording != "rec" || ev.Seq != 1 || ev.Name == "" || (len(ev.Data) > 0 && !json.Valid(ev.Data)) {
				t.Errorf("delivered %+v from %q", ev, payload)
			}
		case <-time.After(time.Millisecond):
		}
		cancel()
		p.hub.close()
	})
}
