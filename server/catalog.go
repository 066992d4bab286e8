package server

import (
	"encoding/json"
	"errors"
	"time"

	bolt "go.etcd.io/bbolt"
)

var bucketRecordings = []byte("recordings")

// catalog is the bbolt database of recordings, one JSON entry per id.
type catalog struct {
	db *bolt.DB
}

// entry is what the catalog keeps about a recording.
type entry struct {
	meta
	File     string `json:"file"`     // base name inside Dir
	Finished bool   `json:"finished"` // the file was finished by the recorder (or recovery)
}

// meta is a recording as the API shows it.
type meta struct {
	ID        string     `json:"id"`
	Name      string     `json:"name,omitempty"`
	Session   string     `json:"session"`
	State     string     `json:"state"`
	MimeType  string     `json:"mimeType"`
	Size      int64      `json:"size"`
	Duration  float64    `json:"duration"`
	Created   time.Time  `json:"created"`
	Error     *errorBody `json:"error,omitempty"`
	Recovered bool       `json:"recovered,omitempty"`
}

func openCatalog(path string) (*catalog, error) {
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, err
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketRecordings)
		return err
	}); err != nil {
		db.Close()
		return nil, err
	}
	return &catalog{db: db}, nil
}

func (c *catalog) put(e entry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return c.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRecordings).Put([]byte(e.ID), data)
	})
}

func (c *catalog) delete(id string) error {
	return c.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRecordings).Delete([]byte(id))
	})
}

// all returns every entry; entries that do not decode are skipped.
func (c *catalog) all() ([]entry, error) {
	var out []entry
	err := c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRecordings).ForEach(func(k, v []byte) error {
			var e entry
			if json.Unmarshal(v, &e) == nil && e.ID == string(k) {
				out = append(out, e)
			}
			return nil
		})
	})
	return out, err
}

func (c *catalog) close() error {
	if c == nil || c.db == nil {
		return errors.New("server: catalog closed")
	}
	return c.db.Close()
}
