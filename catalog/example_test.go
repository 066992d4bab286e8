package catalog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gomediarecorder/mediarecorder/catalog"
)

// A node's life with the catalog, as the server leads it: open, beat,
// take over orphans, record (row + events), stream events to a client.
// With "postgres://…" instead of the file path, the same code runs a
// cluster.
func Example() {
	dir, _ := os.MkdirTemp("", "catalog-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	cat, err := catalog.Open(ctx, filepath.Join(dir, "catalog.db"), catalog.Options{Node: "node-a"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cat.Close()

	// Start-up: announce the node, then recover what crashed or dead
	// nodes left unfinished (repeat both every few seconds).
	me := catalog.Node{ID: "node-a", URL: "http://10.0.0.1:8080", Capacity: 10}
	if err := cat.Heartbeat(ctx, me); err != nil {
		fmt.Println(err)
		return
	}
	orphans, _ := cat.ClaimOrphans(ctx, me.ID, 0)
	fmt.Println("orphans:", len(orphans))

	// A recording: its row, then its events, in order.
	r := catalog.Recording{ID: "r1", Session: "s1", State: "recording", MimeType: "video/webm", Created: time.Now(), File: "r1.webm"}
	if err := cat.Put(ctx, r); err != nil {
		fmt.Println(err)
		return
	}
	cat.Publish(ctx, "r1", "start", json.RawMessage(`{}`))
	cat.Publish(ctx, "r1", "dataavailable", json.RawMessage(`{"size":1000,"timecode":0}`))
	cat.Publish(ctx, "r1", "stop", json.RawMessage(`{}`))

	// An SSE client (on any node): from its Last-Event-ID (0: all), until
	// "stop".
	events, cancel := cat.Subscribe(ctx, "r1", 0)
	defer cancel()
	for ev := range events {
		fmt.Printf("id: %d\nevent: %s\ndata: %s\n\n", ev.Seq, ev.Name, ev.Data)
		if ev.Name == "stop" {
			break
		}
	}

	got, _ := cat.Get(ctx, "r1")
	fmt.Println("owner:", got.Owner)
	// Output:
	// orphans: 0
	// id: 1
	// event: start
	// data: {}
	//
	// id: 2
	// event: dataavailable
	// data: {"size":1000,"timecode":0}
	//
	// id: 3
	// event: stop
	// data: {}
	//
	// owner: node-a
}
