#!/usr/bin/python3
"""Publish a test pattern (H.264) and a tone (Opus) over WHIP with GStreamer.

usage: whip_publish.py WHIP_URL SECONDS [TOKEN]

An independent WebRTC stack for the server's tests: GStreamer's webrtcbin
(ICE by libnice). The WHIP exchange (RFC 9725) is done here with urllib,
without trickle ICE: the offer is POSTed once every candidate is gathered.
The media flows for SECONDS once the connection is up (ICE and DTLS),
then the session is DELETEd. Prints "session URL", "connected T" and
"deleted T" on stdout (T: Unix time in seconds when the media started to
flow, when the DELETE was sent); on any failure prints one line on stderr
and exits 1 (2 on bad usage).
"""

import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

# Payload types and the H.264 profile (High: profile-level-id 6400xx) are
# ones the server registers (newWebRTCAPI in server/whip.go). The valves
# pass the caps (the offer is made from them) but hold the media back until
# the connection is up: webrtcbin would otherwise queue it and send it in one burst,
# and the recording would hold media older than the connection.
PIPELINE = """
webrtcbin name=pc bundle-policy=max-bundle
videotestsrc is-live=true pattern=ball
  ! video/x-raw,width=320,height=240,framerate=30/1 ! videoconvert
  ! x264enc tune=zerolatency speed-preset=veryfast key-int-max=30 bitrate=600
  ! video/x-h264,profile=high
  ! rtph264pay config-interval=-1 aggregate-mode=zero-latency
  ! application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=112
  ! valve name=vvalve drop=true drop-mode=forward-sticky-events ! pc.
audiotestsrc is-live=true wave=sine freq=440
  ! audioconvert ! audioresample ! opusenc
  ! rtpopuspay
  ! application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=111
  ! valve name=avalve drop=true drop-mode=forward-sticky-events ! pc.
"""

TIMEOUT = 10.0  # seconds for the caps, for ICE gathering, for connecting


class Failure(Exception):
    pass


def check_bus(bus, wait=0.0):
    """Raises Failure on an error message; waits up to `wait` (>= 0) seconds
    for one."""
    msg = bus.timed_pop_filtered(int(wait * Gst.SECOND), Gst.MessageType.ERROR | Gst.MessageType.EOS)
    if msg is None:
        return
    if msg.type == Gst.MessageType.EOS:
        raise Failure("pipeline: unexpected end of stream")
    err, debug = msg.parse_error()
    raise Failure(f"pipeline error from {msg.src.get_name()}: {err.message} ({debug})")


def call(pc, signal, *args):
    """Emits an action signal that takes a promise and waits for the reply.
    Returns the promise and its reply: the promise owns the reply, and the
    reply owns its values, so keep both while using a value."""
    promise = Gst.Promise.new()
    pc.emit(signal, *args, promise)
    if promise.wait() != Gst.PromiseResult.REPLIED:
        raise Failure(f"webrtcbin {signal}: no reply")
    reply = promise.get_reply()
    if reply is not None and reply.has_field("error"):
        raise Failure(f"webrtcbin {signal}: {reply.get_value('error').message}")
    return promise, reply


def wait_for(bus, what, cond, timeout):
    """Waits until cond() holds, watching the bus for errors."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout:.0f} s waiting for {what}")
        check_bus(bus, 0.05)


def request(method, url, token, body=None):
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/sdp")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, resp.headers, resp.read().decode()
    except urllib.error.HTTPError as e:
        raise Failure(f"{method} {url}: HTTP {e.code}: {e.read().decode(errors='replace').strip()}") from None
    except urllib.error.URLError as e:
        raise Failure(f"{method} {url}: {e.reason}") from None


def publish(url, seconds, token):
    pipeline = Gst.parse_launch(PIPELINE)
    try:
        if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            raise Failure("the pipeline does not start")
        session, answer = post_offer(pipeline, url, token)
        print(f"session {session}", flush=True)
        error = None
        try:
            stream(pipeline, answer, seconds)
        except Failure as e:
            error = e
        try:  # the session ends even when streaming failed
            deleted = time.time()
            request("DELETE", session, token)
            print(f"deleted {deleted:.3f}", flush=True)
        except Failure as e:
            error = error or e
        if error:
            raise error
    finally:
        pipeline.set_state(Gst.State.NULL)


def post_offer(pipeline, url, token):
    """Makes the offer, gathers every ICE candidate and POSTs it. Returns
    the session URL and the answer."""
    pc, bus = pipeline.get_by_name("pc"), pipeline.get_bus()
    # The offer describes the codecs from the pads' caps: wait for them.
    wait_for(bus, "the media caps", lambda: all(p.has_current_caps() for p in pc.sinkpads), TIMEOUT)
    _promise, reply = call(pc, "create-offer", None)
    call(pc, "set-local-description", reply.get_value("offer"))
    complete = GstWebRTC.WebRTCICEGatheringState.COMPLETE
    wait_for(bus, "ICE gathering", lambda: pc.get_property("ice-gathering-state") == complete, TIMEOUT)
    offer = pc.get_property("local-description").sdp.as_text()

    status, headers, answer = request("POST", url, token, offer.encode())
    if status != 201 or not headers.get("Location"):
        raise Failure(f"POST {url}: HTTP {status} with Location {headers.get('Location')!r}, want 201 and a Location")
    return urllib.parse.urljoin(url, headers["Location"]), answer


def stream(pipeline, answer, seconds):
    """Applies the answer, waits for the connection (ICE and DTLS), then
    sends media for `seconds`."""
    pc, bus = pipeline.get_by_name("pc"), pipeline.get_bus()
    res, msg = GstSdp.SDPMessage.new_from_text(answer)
    if res != GstSdp.SDPResult.OK:
        raise Failure(f"the answer is not SDP: {answer[:200]!r}")
    call(pc, "set-remote-description", GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, msg))

    connected = GstWebRTC.WebRTCPeerConnectionState.CONNECTED
    wait_for(bus, "the connection", lambda: pc.get_property("connection-state") == connected, TIMEOUT)
    for name in ("vvalve", "avalve"):
        pipeline.get_by_name(name).set_property("drop", False)
    print(f"connected {time.time():.3f}", flush=True)

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        check_bus(bus, max(0.0, min(0.1, end - time.monotonic())))
        state = pc.get_property("connection-state")
        if state != connected:
            raise Failure(f"the connection went {state.value_nick} while sending")


def main(argv):
    if len(argv) not in (3, 4):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        seconds = float(argv[2])
    except ValueError:
        print(f"whip_publish: bad SECONDS {argv[2]!r}", file=sys.stderr)
        return 2
    Gst.init(None)
    try:
        publish(argv[1], seconds, argv[3] if len(argv) == 4 else "")
    except (Failure, GLib.Error) as e:  # GLib.Error: e.g. a missing element
        print(f"whip_publish: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
