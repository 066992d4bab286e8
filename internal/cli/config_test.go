package cli

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// serveFlags returns serve's flag set, parsed from args, and whether
// parsing succeeded.
func serveFlags(t *testing.T, args ...string) *flag.FlagSet {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	serveCmd(fs, io.Discard, io.Discard)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "serve.conf")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSettingsPrecedence: flag > environment > file > default, for every
// flag of serve (the layering knows nothing of particular flags).
func TestSettingsPrecedence(t *testing.T) {
	file := writeFile(t, `# a comment
addr = 127.0.0.1:1111
token = "from file"
udp_port = 3333
capacity = 7
autorecord = true
`)
	env := map[string]string{
		"MEDIARECORDER_CONFIG":   file,
		"MEDIARECORDER_ADDR":     "127.0.0.1:2222",
		"MEDIARECORDER_UDP_PORT": "4444",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	fs := serveFlags(t, "-addr", "127.0.0.1:9999")
	org, err := layerSettings(fs, lookup)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{
		"addr":          {"127.0.0.1:9999", "flag"},
		"udp-port":      {"4444", "MEDIARECORDER_UDP_PORT"},
		"token":         {"from file", file + ":3"},
		"capacity":      {"7", file + ":5"},
		"autorecord":    {"true", file + ":6"},
		"cors-origin":   {"*", ""},
		"drain-timeout": {"30s", ""},
	}
	for name, w := range want {
		if got := fs.Lookup(name).Value.String(); got != w[0] || org[name] != w[1] {
			t.Errorf("-%s = %q from %q, want %q from %q", name, got, org[name], w[0], w[1])
		}
	}
	// Every flag has its environment variable.
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "config" {
			return
		}
		fs2 := serveFlags(t)
		v := f.DefValue
		if _, err := layerSettings(fs2, func(k string) (string, bool) { return v, k == envName(f.Name) }); err != nil {
			t.Errorf("-%s from %s: %v", f.Name, envName(f.Name), err)
		}
	})
}

// TestSettingsInvalid: a bad setting, wherever it comes from, refuses to
// start: exit status 2 and one line naming it.
func TestSettingsInvalid(t *testing.T) {
	tests := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{env: map[string]string{"MEDIARECORDER_UDP_PORT": "x"}, want: "-udp-port: invalid value \"x\" from MEDIARECORDER_UDP_PORT"},
		{args: []string{"-udp-port", "70000"}, want: "-udp-port: 70000 is not a port"},
		{args: []string{"-config", writeFile(t, "capacity = lots\n")}, want: "-capacity: invalid value \"lots\" from "},
		{args: []string{"-config", writeFile(t, "no-such-thing = 1\n")}, want: "unknown setting \"no-such-thing\""},
		{args: []string{"-config", writeFile(t, "just words\n")}, want: "want key = value"},
		{args: []string{"-config", "/nonexistent/serve.conf"}, want: "-config: open /nonexistent/serve.conf"},
		{args: []string{"-tls-cert", "/nonexistent.pem"}, want: "-tls-key: -tls-cert is set without it"},
		{args: []string{"-tls-cert", "/nonexistent.pem", "-tls-key", "/nonexistent.key"}, want: "-tls-cert: /nonexistent.pem"},
		{args: []string{"-ice-servers", "turn:host:3478"}, want: "-ice-servers: ICE server \"turn:host:3478\": a TURN server needs user:password@"},
		{args: []string{"-ice-servers", "http://x"}, want: "-ice-servers:"},
		{args: []string{"-public-ip", "1.2.3"}, want: "-public-ip: \"1.2.3\" is not an IP address"},
		{args: []string{"-udp-ports", "9-3"}, want: "-udp-ports: \"9-3\" is not a range"},
		{args: []string{"-base-path", "rec"}, want: "-base-path: \"rec\" is not a path"},
		{args: []string{"-log-format", "xml"}, want: "-log-format: \"xml\" is neither text nor json"},
		{env: map[string]string{"MEDIARECORDER_DRAIN_TIMEOUT": "-1s"}, want: "-drain-timeout: -1s is negative"},
		{env: map[string]string{"MEDIARECORDER_RETAIN_FOR": "30 days"}, want: "-retain-for: invalid value \"30 days\" from MEDIARECORDER_RETAIN_FOR"},
		{env: map[string]string{"MEDIARECORDER_RETAIN_SIZE": "100 parsecs"}, want: "-retain-size: invalid value \"100 parsecs\" from MEDIARECORDER_RETAIN_SIZE"},
		{args: []string{"-config", writeFile(t, "retain-size = -5GB\n")}, want: "-retain-size: invalid value \"-5GB\" from "},
	}
	for _, tc := range tests {
		for k, v := range tc.env {
			t.Setenv(k, v)
		}
		code, _, errs := runCLI(append([]string{"serve", "-addr", "127.0.0.1:0", "-dir", t.TempDir()}, tc.args...)...)
		for k := range tc.env {
			os.Unsetenv(k)
		}
		lines := strings.Split(strings.TrimRight(errs, "\n"), "\n")
		if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], tc.want) {
			t.Errorf("%v %v: exit %d, stderr %q; want 2 and one line with %q", tc.env, tc.args, code, errs, tc.want)
		}
	}
}

// TestServeHelpEnv: serve -h gives every setting's default and
// environment variable.
func TestServeHelpEnv(t *testing.T) {
	_, out, errs := runCLI("serve", "-h")
	help := out + errs
	serveFlags(t).VisitAll(func(f *flag.Flag) {
		if !strings.Contains(help, "  -"+f.Name) || !strings.Contains(help, "(env "+envName(f.Name)+")") {
			t.Errorf("serve -h does not document -%s and %s", f.Name, envName(f.Name))
		}
	})
	for _, want := range []string{`(default "127.0.0.1:8080") (env MEDIARECORDER_ADDR)`, "(default 0) (env MEDIARECORDER_UDP_PORT)", `(default "") (env MEDIARECORDER_TLS_CERT)`} {
		if !strings.Contains(help, want) {
			t.Errorf("serve -h lacks %q", want)
		}
	}
}

// FuzzParseConfigFile: any file parses or fails with a settingError that
// names a line; parsed keys and values carry no surrounding space, and a
// key appears once.
func FuzzParseConfigFile(f *testing.F) {
	for _, seed := range []string{
		"addr = 127.0.0.1:80\n# c\n\ntoken = \"a b\"\n",
		"x=1\nx=2\n", "=1\n", "k = \"unterminated\n", "k = v = w\n", "\xff\xfe = \x00\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		kv, err := parseConfigFile(strings.NewReader(text), "f")
		if err != nil {
			var se settingError
			if !errors.As(err, &se) || !strings.HasPrefix(se.msg, "f") {
				t.Fatalf("error %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, e := range kv {
			if e.key == "" || e.key != strings.TrimSpace(e.key) || seen[strings.ReplaceAll(e.key, "_", "-")] {
				t.Fatalf("entry %+v", e)
			}
			seen[strings.ReplaceAll(e.key, "_", "-")] = true
		}
	})
}
