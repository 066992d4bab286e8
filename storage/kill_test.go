package storage_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/storage"
)

// The process recording is killed (SIGKILL) mid-recording, its disk
// survives: the spool holds every byte the writer was given, and after a
// restart Resume stores it, reusing the parts already uploaded.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child test process; skipped in -short mode")
	}
	if os.Getenv("STORAGE_KILL_CHILD") != "" {
		killChild(t)
		return
	}
	eachBackend(t, false, func(t *testing.T, b backend) {
		spool := t.TempDir()
		opts := b.opts(spool)
		opts.PartSize = ps
		opts.Logger = nil
		env, err := json.Marshal(opts)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestKill9$", "-test.v")
		cmd.Env = append(os.Environ(), "STORAGE_KILL_CHILD="+string(env))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		// The child reports, after each fsync'd Cluster, the bytes it
		// wrote and the bytes in uploaded parts.
		var synced, stored int64
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if _, err := fmt.Sscanf(sc.Text(), "synced %d stored %d", &synced, &stored); err == nil && stored >= 2*ps {
				break
			}
		}
		if stored < 2*ps {
			t.Fatalf("the child ended before storing two parts: %v", sc.Err())
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()

		st := newStore(t, b, spool, nil)
		p, err := st.Pending()
		if err != nil || len(p) != 1 || p[0].Finished {
			t.Fatalf("pending %+v, %v", p, err)
		}
		local, err := os.ReadFile(p[0].Path)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(local)) < synced {
			t.Fatalf("the spool has %d bytes, the child had written %d", len(local), synced)
		}
		if err := st.Resume(context.Background(), p[0].Key); err != nil {
			t.Fatal(err)
		}
		sameBytes(t, "object", readObject(t, st, p[0].Key), local)
		t.Logf("killed after %d bytes (%d in parts); spool %d bytes, stored", synced, stored, len(local))
	})
}

// killChild records until it is killed.
func killChild(t *testing.T) {
	var opts storage.S3Options
	if err := json.Unmarshal([]byte(os.Getenv("STORAGE_KILL_CHILD")), &opts); err != nil {
		t.Fatal(err)
	}
	opts.Logger = quiet()
	st, err := storage.NewS3(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.Create(context.Background(), "killed.webm", storage.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sw := s3w(t, w)
	r := newRecorder(t, w)
	r.header()
	deadline := time.Now().Add(2 * time.Minute) // a hang guard: the parent kills it long before
	r.clusters(1<<40, func() {
		fmt.Printf("synced %d stored %d\n", w.Size(), sw.Stored())
		for int64(len(r.m.b)) > 3*ps { // enough: report until killed
			if time.Now().After(deadline) {
				t.Fatal("not killed")
			}
			time.Sleep(50 * time.Millisecond)
			fmt.Printf("synced %d stored %d\n", w.Size(), sw.Stored())
		}
	})
}
