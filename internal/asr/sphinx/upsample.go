package sphinx

import "math"

// The model is trained on 16 kHz audio; telephone audio is 8 kHz. Raising
// the rate (rather than running the front end at 8 kHz, which its feature
// parameters refuse) keeps the model's filter bank: the band above 4 kHz is
// simply empty. Interpolation by 2 with a windowed-sinc low-pass filter,
// so no image of the speech band lands above 4 kHz.

// halfTaps is the filter's one-sided length in input samples.
const halfTaps = 16

// kernel[k] is the interpolated sample's weight of input n-halfTaps+1+k for
// the sample halfway between input n and n+1.
var kernel = func() [2 * halfTaps]float64 {
	var k [2 * halfTaps]float64
	sum := 0.0
	for i := range k {
		x := float64(i-halfTaps) + 0.5 // distance from the midpoint, in input samples
		sinc := math.Sin(math.Pi*x) / (math.Pi * x)
		// Blackman window over the filter's span.
		w := 0.42 + 0.5*math.Cos(math.Pi*x/halfTaps) + 0.08*math.Cos(2*math.Pi*x/halfTaps)
		k[i] = sinc * w
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	return k
}()

// Upsample returns pcm (8 kHz) at 16 kHz: the input samples, and between
// each two the filter's interpolation.
func Upsample(pcm []int16) []int16 {
	out := make([]int16, 2*len(pcm))
	for n := range pcm {
		out[2*n] = pcm[n]
		acc := 0.0
		for i, w := range kernel {
			j := n - halfTaps + 1 + i
			if j >= 0 && j < len(pcm) {
				acc += w * float64(pcm[j])
			}
		}
		out[2*n+1] = int16(max(-32768, min(32767, math.Round(acc))))
	}
	return out
}
