package catalog_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/catalog"
	bolt "go.etcd.io/bbolt"
)

// TestBoltReadsServerCatalog opens a catalog.db as server/catalog.go
// wrote it (bucket "recordings", id -> JSON entry): nothing is lost, and
// the unfinished entries are the orphans that start-up recovery claims.
func TestBoltReadsServerCatalog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	db, err := bolt.Open(path, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Byte for byte what server/catalog.go's entry marshals to.
	old := map[string]string{
		"aaaa": `{"id":"aaaa","session":"s1","state":"inactive","mimeType":"video/webm;codecs=vp8,opus","size":52345,"duration":3.5,"created":"2026-11-30T10:00:00.123456789Z","file":"aaaa.webm","finished":true}`,
		"bbbb": `{"id":"bbbb","session":"s2","state":"inactive","mimeType":"audio/ogg;codecs=opus","size":100,"duration":0,"created":"2026-12-01T10:00:00Z","error":{"name":"UnknownError","message":"recovery failed: boom"},"recovered":true,"file":"bbbb.ogg","finished":true}`,
		"cccc": `{"id":"cccc","session":"s3","state":"recording","mimeType":"video/webm","size":0,"duration":0,"created":"2026-12-02T10:00:00Z","file":"cccc.webm","finished":false}`,
		"bad":  `{"id":"other"}`,
		"junk": `not json`,
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("recordings"))
		if err != nil {
			return err
		}
		for k, v := range old {
			if err := b.Put([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	ctx := ctxT(t)
	c, err := catalog.Open(ctx, path, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rs, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 || rs[0].ID != "cccc" || rs[1].ID != "bbbb" || rs[2].ID != "aaaa" {
		t.Fatalf("List = %+v, want cccc, bbbb, aaaa", rs)
	}
	a := rs[2]
	if a.Session != "s1" || a.State != "inactive" || a.MimeType != "video/webm;codecs=vp8,opus" || a.Size != 52345 ||
		a.Duration != 3.5 || !a.Created.Equal(time.Date(2026, 11, 30, 10, 0, 0, 123456789, time.UTC)) ||
		a.File != "aaaa.webm" || !a.Finished || a.Error != nil || a.Recovered {
		t.Errorf("aaaa = %+v", a)
	}
	if b := rs[1]; b.Error == nil || b.Error.Name != "UnknownError" || b.Error.Message != "recovery failed: boom" || !b.Recovered {
		t.Errorf("bbbb = %+v", b)
	}
	if err := c.Heartbeat(ctx, catalog.Node{ID: "me"}); err != nil {
		t.Fatal(err)
	}
	claimed, err := c.ClaimOrphans(ctx, "me", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(claimed) != 1 || claimed[0].ID != "cccc" || claimed[0].Owner != "me" {
		t.Fatalf("ClaimOrphans = %+v, want cccc", claimed)
	}
	// What recovery then writes back.
	r := claimed[0]
	r.Finished, r.Recovered, r.State, r.Lost = true, true, "inactive", 1.5
	if err := c.Put(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(context.Background(), "cccc"); err != nil || !got.Finished || got.Lost != 1.5 || got.Owner != "me" {
		t.Errorf("Get = %+v, %v", got, err)
	}
}

// TestBoltHeldFile: a second instance cannot open the file that another
// holds, and says so instead of hanging.
func TestBoltHeldFile(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the file lock timeout; skipped in -short mode")
	}
	path := filepath.Join(t.TempDir(), "catalog.db")
	c, err := catalog.OpenBolt(path, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if d, err := catalog.OpenBolt(path, catalog.Options{}); err == nil {
		d.Close()
		t.Fatal("a second OpenBolt of a held file succeeded")
	}
}
