package storage_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomediarecorder/mediarecorder/storage"
)

// The local store: the Writer is the file, read back through Open, listed,
// deleted.
func TestLocal(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := storage.Open(ctx, "", dir, storage.S3Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := create(t, st, "a/b.webm")
	r := newRecorder(t, w)
	r.header()
	r.clusters(1<<20, nil)
	r.finish()
	if w.Name() != filepath.Join(dir, "a", "b.webm") || w.Size() != int64(len(r.m.b)) {
		t.Fatalf("name %s size %d", w.Name(), w.Size())
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("commit twice: %v", err)
	}
	sameBytes(t, "file", readObject(t, st, "a/b.webm"), r.m.b)
	o, err := st.Open(ctx, "a/b.webm")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if _, err := o.ReadAt(buf, 1000); err != nil {
		t.Fatal(err)
	}
	sameBytes(t, "ReadAt", buf, r.m.b[1000:1010])
	o.Close()
	if _, err := st.Create(ctx, "a/b.webm", storage.CreateOptions{}); !errors.Is(err, storage.ErrExists) {
		t.Errorf("create twice: %v", err)
	}
	if ls, err := st.List(ctx, "a/"); err != nil || len(ls) != 1 || ls[0].Key != "a/b.webm" {
		t.Errorf("list %+v, %v", ls, err)
	}
	if err := st.Delete(ctx, "a/b.webm"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Open(ctx, "a/b.webm"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("open after delete: %v", err)
	}
	w2 := create(t, st, "c.ogg")
	w2.Write([]byte("x"))
	if err := w2.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "c.ogg")); !os.IsNotExist(err) {
		t.Errorf("aborted file left: %v", err)
	}
}

// Keys that climb out of the store, or are not clean, are refused.
func TestBadKeys(t *testing.T) {
	ctx := context.Background()
	local, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s3, err := storage.NewS3(ctx, storage.S3Options{Bucket: "bucket", SpoolDir: t.TempDir(), Endpoint: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []storage.Store{local, s3} {
		for _, k := range []string{"", "/abs", "../up", "a/../../b", "a//b", "./a", "a\\b", ".uploads/x"} {
			if st == storage.Store(local) && k == ".uploads/x" {
				continue
			}
			if _, err := st.Create(ctx, k, storage.CreateOptions{}); !errors.Is(err, storage.ErrBadKey) {
				t.Errorf("%s: Create(%q): %v", st, k, err)
			}
			if k == ".uploads/x" {
				continue // a key, but not one to write: the spool's queue lives there
			}
			if _, err := st.Open(ctx, k); !errors.Is(err, storage.ErrBadKey) {
				t.Errorf("%s: Open(%q): %v", st, k, err)
			}
		}
	}
}

// Open reads the -store flag; S3 settings come from the environment,
// then the URL.
func TestOpenSpec(t *testing.T) {
	ctx := context.Background()
	t.Setenv("AWS_ACCESS_KEY_ID", "AK")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "SK")
	t.Setenv("AWS_REGION", "eu-west-3")
	t.Setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:8333")
	dir := t.TempDir()
	st, err := storage.Open(ctx, "s3://bucket/some/prefix", dir, storage.S3Options{})
	if err != nil {
		t.Fatal(err)
	}
	s3 := st.(*storage.S3)
	o := s3.Options()
	if o.Bucket != "bucket" || o.Prefix != "some/prefix/" || o.Region != "eu-west-3" || o.AccessKeyID != "AK" ||
		o.SecretAccessKey != "SK" || o.Endpoint != "http://127.0.0.1:8333" || o.SpoolDir != dir || o.PartSize != storage.DefaultPartSize {
		t.Errorf("options %+v", o)
	}
	if s3.Client().EndpointURL().Host != "127.0.0.1:8333" {
		t.Errorf("endpoint %v", s3.Client().EndpointURL())
	}
	if st.String() != "s3://bucket/some/prefix/" {
		t.Errorf("String %q", st.String())
	}
	st, err = storage.Open(ctx, "s3://b2?endpoint=https://s3.example.com&region=x", dir, storage.S3Options{PartSize: 6 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if o := st.(*storage.S3).Options(); o.Endpoint != "https://s3.example.com" || o.Region != "x" || o.Prefix != "" || o.PartSize != 6<<20 {
		t.Errorf("options %+v", o)
	}
	if _, err := storage.Open(ctx, "s3://b", dir, storage.S3Options{PartSize: 1 << 20}); err == nil {
		t.Error("a part size below 5 MiB was accepted")
	}
	if _, err := storage.Open(ctx, "gs://b", dir, storage.S3Options{}); err == nil {
		t.Error("gs:// was accepted")
	}
	for _, spec := range []string{"", "file://" + dir, dir} {
		st, err := storage.Open(ctx, spec, dir, storage.S3Options{})
		if err != nil {
			t.Fatal(err)
		}
		if l, ok := st.(*storage.Local); !ok || l.Dir() != dir {
			t.Errorf("Open(%q) = %v", spec, st)
		}
	}
}
