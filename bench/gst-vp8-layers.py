#!/usr/bin/python3
"""Sender of bench/rtp-loss.sh's vp8-gst-layers stream: GStreamer's vp8enc
with two temporal layers (layer 1 references the last frame only, updates
nothing, keeps no probability update; every layer-1 frame a layer sync),
error-resilient, 640x480 30 fps at 1 Mb/s, key frame every 60 frames, live,
payloaded by rtpvp8pay (which writes TID, Y and TL0PICIDX) and sent to
127.0.0.1:PORT; the encoded stream is also written to OUT.webm.

Usage: gst-vp8-layers.py PORT FRAMES OUT.webm

The layer properties are GstValueArrays, which gst-launch-1.0 (1.22)
cannot set: hence Python.
"""
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

Gst.init(None)
port, frames, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
p = Gst.parse_launch(
    f"videotestsrc num-buffers={frames} is-live=true pattern=smpte horizontal-speed=8 "
    "! video/x-raw,width=640,height=480,framerate=30/1 "
    "! vp8enc name=e deadline=1 cpu-used=8 target-bitrate=1000000 keyframe-max-dist=60 error-resilient=default "
    "! tee name=t ! queue ! rtpvp8pay mtu=1200 picture-id-mode=15-bit "
    f"! udpsink host=127.0.0.1 port={port} "
    f"t. ! queue ! webmmux ! filesink location={out}"
)
e = p.get_by_name("e")
e.set_property("temporal-scalability-number-layers", 2)
e.set_property("temporal-scalability-periodicity", 2)
e.set_property("temporal-scalability-layer-id", [0, 1])
e.set_property("temporal-scalability-rate-decimator", [2, 1])
e.set_property("temporal-scalability-target-bitrate", [600000, 1000000])
Gst.util_set_object_arg(
    e,
    "temporal-scalability-layer-flags",
    "<no-ref-golden+no-ref-alt+no-upd-golden+no-upd-alt, "
    "no-ref-golden+no-ref-alt+no-upd-last+no-upd-golden+no-upd-alt+no-upd-entropy>",
)
Gst.util_set_object_arg(e, "temporal-scalability-layer-sync-flags", "<false, true>")
p.set_state(Gst.State.PLAYING)
msg = p.get_bus().timed_pop_filtered(Gst.CLOCK_TIME_NONE, Gst.MessageType.EOS | Gst.MessageType.ERROR)
p.set_state(Gst.State.NULL)
if msg.type == Gst.MessageType.ERROR:
    print("gst-vp8-layers.py:", msg.parse_error(), file=sys.stderr)
    sys.exit(1)
