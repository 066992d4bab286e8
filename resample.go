package mediarecorder

import "math"

// resampler converts interleaved float32 PCM from one sample rate to
// another with a windowed-sinc (Blackman) polyphase filter: out = in*l/m.
// It adds no delay: output sample n is the input's value at time n/outRate
// (the last few milliseconds wait for the input that follows them).
type resampler struct {
	ch     int
	l, m   int64
	taps   int     // input samples each side of the centre
	cutoff float64 // relative to the input's Nyquist frequency
	table  [][]float32
	hist   []float32 // interleaved input, from the oldest sample still needed
	t      int64     // next output's position in input samples, times l
	out    []float32
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// resampleTaps is the half-width of the filter at the input rate when
// upsampling (it widens by the ratio when downsampling).
const resampleTaps = 16

// maxResampleTable bounds the precomputed phases; odd rate pairs with more
// phases compute their coefficients per sample.
const maxResampleTable = 4096

func newResampler(inRate, outRate, channels int) *resampler {
	g := gcd(int64(inRate), int64(outRate))
	r := &resampler{ch: channels, l: int64(outRate) / g, m: int64(inRate) / g, cutoff: 1}
	if outRate < inRate {
		r.cutoff = float64(outRate) / float64(inRate)
	}
	r.cutoff *= 0.97 // a little room for the transition band
	r.taps = int(math.Ceil(resampleTaps / r.cutoff))
	if r.l <= maxResampleTable {
		r.table = make([][]float32, r.l)
		for p := range r.table {
			r.table[p] = r.coefficients(int64(p), nil)
		}
	}
	// The filter starts centred on the first input sample.
	r.hist = make([]float32, (r.taps-1)*channels)
	return r
}

// coefficients returns the filter for phase p (the output lies p/l of an
// input sample after the centre sample), normalised to unit gain.
func (r *resampler) coefficients(p int64, buf []float32) []float32 {
	n := 2 * r.taps
	if cap(buf) < n {
		buf = make([]float32, n)
	}
	buf = buf[:n]
	frac := float64(p) / float64(r.l)
	var sum float64
	for j := range n {
		buf[j] = 0
		k := float64(j-r.taps+1) - frac // distance from the output, in input samples
		u := k / float64(r.taps)
		if u <= -1 || u >= 1 {
			continue
		}
		w := 0.42 + 0.5*math.Cos(math.Pi*u) + 0.08*math.Cos(2*math.Pi*u)
		x := math.Pi * r.cutoff * k
		s := 1.0
		if x != 0 {
			s = math.Sin(x) / x
		}
		buf[j] = float32(s * w)
		sum += s * w
	}
	for j := range n {
		buf[j] = float32(float64(buf[j]) / sum)
	}
	return buf
}

// process takes interleaved input and returns the output it completes,
// valid until the next call.
func (r *resampler) process(in []float32) []float32 {
	r.hist = append(r.hist, in...)
	frames := int64(len(r.hist) / r.ch)
	r.out = r.out[:0]
	var scratch []float32
	n := int64(2 * r.taps)
	for {
		start := r.t / r.l // the first input sample the filter covers
		if start+n > frames {
			break
		}
		p := r.t % r.l
		var h []float32
		if r.table != nil {
			h = r.table[p]
		} else {
			scratch = r.coefficients(p, scratch)
			h = scratch
		}
		base := int(start) * r.ch
		for c := range r.ch {
			var acc float32
			for j, coef := range h {
				acc += r.hist[base+j*r.ch+c] * coef
			}
			r.out = append(r.out, acc)
		}
		r.t += r.m
	}
	if drop := r.t / r.l; drop > 0 {
		r.hist = r.hist[:copy(r.hist, r.hist[drop*int64(r.ch):])]
		r.t -= drop * r.l
	}
	return r.out
}
