package cli

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
)

// envPrefix starts the environment variable of every serve setting:
// -udp-port is MEDIARECORDER_UDP_PORT.
const envPrefix = "MEDIARECORDER_"

// envName is the environment variable of the flag name.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// settingError is an invalid setting: the command refuses to start with
// one line naming the setting (exit status 2).
type settingError struct{ msg string }

func (e settingError) Error() string { return e.msg }

// origins tells where each setting's value came from: "flag", the
// environment variable, or "FILE:LINE". A setting absent from it has its
// default.
type origins map[string]string

// layerSettings gives each flag of fs that the command line did not set
// the value of its environment variable (envName), else the value of its
// key in the config file, so that precedence is flag > environment >
// file > default. The file is configFile (the -config flag's value, which
// may itself come from MEDIARECORDER_CONFIG), "" for none. It covers
// every flag of fs, so a flag added to serve later needs nothing more.
//
// The file holds one "key = value" a line; keys are flag names (with "-"
// or "_"), values are taken verbatim after trimming spaces, or may be
// double-quoted Go strings; lines starting with # are comments. This
// format was chosen over JSON or TOML because every setting is already a
// flag whose value is text: a flat key = value file maps onto the flags
// one to one, with the flags' own parsing and error messages, allows
// comments (JSON does not), and needs only the standard library.
func layerSettings(fs *flag.FlagSet, lookupEnv func(string) (string, bool)) (origins, error) {
	org := origins{}
	fs.Visit(func(f *flag.Flag) { org[f.Name] = "flag" })
	set := func(name, value, from string) error {
		if err := fs.Set(name, value); err != nil {
			return settingError{fmt.Sprintf("-%s: invalid value %q from %s: %v", name, value, from, unwrapFlagErr(err))}
		}
		org[name] = from
		return nil
	}
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || org[f.Name] != "" {
			return
		}
		if v, ok := lookupEnv(envName(f.Name)); ok {
			err = set(f.Name, v, envName(f.Name))
		}
	})
	if err != nil {
		return nil, err
	}
	cf := fs.Lookup("config")
	if cf == nil || cf.Value.String() == "" {
		return org, nil
	}
	file := cf.Value.String()
	fh, ferr := os.Open(file)
	if ferr != nil {
		return nil, settingError{fmt.Sprintf("-config: %v", ferr)}
	}
	defer fh.Close()
	kv, perr := parseConfigFile(fh, file)
	if perr != nil {
		return nil, perr
	}
	for _, e := range kv {
		name := strings.ReplaceAll(e.key, "_", "-")
		if fs.Lookup(name) == nil || name == "config" {
			return nil, settingError{fmt.Sprintf("%s: unknown setting %q", e.where, e.key)}
		}
		if org[name] != "" {
			continue // the command line or the environment wins
		}
		if err := set(name, e.value, e.where); err != nil {
			return nil, err
		}
	}
	return org, nil
}

// unwrapFlagErr drops the flag package's wrapping of a Value's error.
func unwrapFlagErr(err error) error {
	if ne, ok := err.(*strconv.NumError); ok {
		return ne.Err
	}
	return err
}

// configEntry is one "key = value" of a config file.
type configEntry struct {
	key, value, where string
}

// parseConfigFile reads the key = value lines of a config file named
// name (for messages).
func parseConfigFile(r io.Reader, name string) ([]configEntry, error) {
	var out []configEntry
	seen := map[string]string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		where := fmt.Sprintf("%s:%d", name, n)
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, settingError{fmt.Sprintf("%s: want key = value, got %q", where, line)}
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if key == "" {
			return nil, settingError{fmt.Sprintf("%s: no key before =", where)}
		}
		if strings.HasPrefix(value, `"`) {
			uq, err := strconv.Unquote(value)
			if err != nil {
				return nil, settingError{fmt.Sprintf("%s: bad quoted value %s", where, value)}
			}
			value = uq
		}
		norm := strings.ReplaceAll(key, "_", "-")
		if prev, dup := seen[norm]; dup {
			return nil, settingError{fmt.Sprintf("%s: %q is already set at %s", where, key, prev)}
		}
		seen[norm] = where
		out = append(out, configEntry{key: key, value: value, where: where})
	}
	if err := sc.Err(); err != nil {
		return nil, settingError{fmt.Sprintf("%s: %v", name, err)}
	}
	return out, nil
}

// printSettings documents every flag of fs: its type, usage, default and
// environment variable.
func printSettings(fs *flag.FlagSet) {
	w := fs.Output()
	fs.VisitAll(func(f *flag.Flag) {
		typ, usage := flag.UnquoteUsage(f)
		head := "  -" + f.Name
		if typ != "" {
			head += " " + typ
		}
		def := f.DefValue
		if isStringFlag(f) {
			def = strconv.Quote(def)
		}
		fmt.Fprintf(w, "%s\n    \t%s\n    \t(default %s) (env %s)\n", head, strings.ReplaceAll(usage, "\n", "\n    \t"), def, envName(f.Name))
	})
}

// isStringFlag reports whether f holds a string (its default is shown
// quoted, so that an empty default shows).
func isStringFlag(f *flag.Flag) bool {
	if g, ok := f.Value.(flag.Getter); ok {
		_, s := g.Get().(string)
		return s
	}
	return reflect.TypeOf(f.Value).String() == "*flag.stringValue"
}
