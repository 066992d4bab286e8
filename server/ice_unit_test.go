package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/pion/ice/v4"
	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"
)

func TestParseICEServers(t *testing.T) {
	got, err := ParseICEServers("stun:stun.example.com:3478, turn:alice:s3:cr@t@turn.example.com:3478?transport=tcp turns:bob:pw@turn.example.com")
	if err != nil {
		t.Fatal(err)
	}
	want := []webrtc.ICEServer{
		{URLs: []string{"stun:stun.example.com:3478"}},
		{URLs: []string{"turn:turn.example.com:3478?transport=tcp"}, Username: "alice", Credential: "s3:cr@t"},
		{URLs: []string{"turns:turn.example.com"}, Username: "bob", Credential: "pw"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	for _, bad := range []string{"turn:host:3478", "stun:u:p@host", "http://host", "turn:@host", "stun:"} {
		_, err := ParseICEServers(bad)
		if err == nil {
			t.Errorf("%q: no error", bad)
		} else if strings.Contains(err.Error(), ":p@") {
			t.Errorf("%q: the error shows the password: %v", bad, err)
		}
	}
	if s, err := ParseICEServers(""); err != nil || s != nil {
		t.Errorf("empty: %v %v", s, err)
	}
}

// offerSDP returns a pion offer (Opus, every candidate) for raw WHIP
// requests that need no connection.
func offerSDP(t *testing.T) string {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	g := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-g
	return pc.LocalDescription().SDP
}

// candidateAddrs returns the address and port of each candidate of an SDP.
func candidateAddrs(sdp string) (addrs []string, ports []int) {
	for _, l := range strings.Split(sdp, "\n") {
		f := strings.Fields(strings.TrimSpace(l))
		if len(f) >= 6 && strings.HasPrefix(f[0], "a=candidate:") {
			p, _ := strconv.Atoi(f[5])
			addrs, ports = append(addrs, f[4]), append(ports, p)
		}
	}
	return addrs, ports
}

// TestPublicIPAndPortRange: -public-ip puts the public address in the
// answer's IPv4 candidates; -udp-ports keeps the ports in the range.
func TestPublicIPAndPortRange(t *testing.T) {
	_, hs := newTestServer(t, Config{PublicIPs: []string{"203.0.113.7"}, UDPPortMin: 42100, UDPPortMax: 42120})
	r := do(t, "POST", hs.URL+"/whip", []byte(offerSDP(t)), "Content-Type", "application/sdp")
	if r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	addrs, ports := candidateAddrs(string(r.body))
	if len(addrs) == 0 {
		t.Fatalf("no candidates:\n%s", r.body)
	}
	public := 0
	for i := range addrs {
		if ports[i] < 42100 || ports[i] > 42120 {
			t.Errorf("candidate %s:%d, want a port in 42100-42120", addrs[i], ports[i])
		}
		if strings.Contains(addrs[i], ":") {
			continue // IPv6: the public address is IPv4
		}
		if addrs[i] != "203.0.113.7" {
			t.Errorf("IPv4 candidate %s, want 203.0.113.7", addrs[i])
		}
		public++
	}
	if public == 0 {
		t.Errorf("no candidate with the public address:\n%s", r.body)
	}
}

// TestClientConfig: GET /api/config hands the page the ICE servers, behind
// the token.
func TestClientConfig(t *testing.T) {
	servers, err := ParseICEServers("stun:stun.example.com:3478,turn:u:p@turn.example.com:3478")
	if err != nil {
		t.Fatal(err)
	}
	_, hs := newTestServer(t, Config{ICEServers: servers, Token: "tok"})
	if r := do(t, "GET", hs.URL+"/api/config", nil); r.status != 401 {
		t.Errorf("without the token: %d", r.status)
	}
	r := do(t, "GET", hs.URL+"/api/config", nil, "Authorization", "Bearer tok")
	var c struct {
		ICEServers []struct {
			URLs       []string `json:"urls"`
			Username   string   `json:"username"`
			Credential string   `json:"credential"`
		} `json:"iceServers"`
	}
	if err := json.Unmarshal(r.body, &c); err != nil || r.status != 200 {
		t.Fatalf("%d %s %v", r.status, r.body, err)
	}
	got := fmt.Sprint(c.ICEServers)
	if want := "[{[stun:stun.example.com:3478]  } {[turn:turn.example.com:3478] u p}]"; got != want {
		t.Errorf("iceServers %s, want %s", got, want)
	}
}

// FuzzParseICEServers: no panic; every server parsed has one URL that
// pion accepts, TURN with credentials, STUN without; an error never shows
// a password.
func FuzzParseICEServers(f *testing.F) {
	for _, seed := range []string{"stun:h:3478", "turn:u:p@h:3478?transport=tcp", "turns:u:p:q@h", "turn:h", "stun:u:p@h", "a,b c", ":@:", "turn:u:@h"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		servers, err := ParseICEServers(s)
		if err != nil {
			for _, raw := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
				at := strings.LastIndex(raw, "@")
				if at < 0 {
					continue
				}
				_, rest, _ := strings.Cut(raw[:at], ":")
				_, pass, ok := strings.Cut(rest, ":")
				if ok && len(pass) >= 4 && strings.Contains(err.Error(), pass) && !strings.Contains(raw[at:], pass) {
					t.Fatalf("the error %q shows the password %q", err, pass)
				}
			}
			return
		}
		for _, srv := range servers {
			if len(srv.URLs) != 1 {
				t.Fatalf("%+v", srv)
			}
			u, err := stun.ParseURI(srv.URLs[0])
			if err != nil {
				t.Fatalf("%q: %v", srv.URLs[0], err)
			}
			turn := u.Scheme == stun.SchemeTypeTURN || u.Scheme == stun.SchemeTypeTURNS
			if turn != (srv.Username != "") {
				t.Fatalf("%+v", srv)
			}
		}
	})
}
