package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
)

// parcelPNG draws the demo visitor's photo (a parcel with a torn corner),
// so that the demo shows a picture without reaching the internet.
func parcelPNG() ([]byte, error) {
	const w, h = 320, 220
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	sky := color.RGBA{0xdf, 0xec, 0xf7, 0xff}
	box := color.RGBA{0xc8, 0x93, 0x5a, 0xff}
	side := color.RGBA{0xa8, 0x74, 0x40, 0xff}
	tape := color.RGBA{0xe9, 0xd8, 0xa6, 0xff}
	label := color.RGBA{0xff, 0xff, 0xff, 0xff}
	ink := color.RGBA{0x33, 0x33, 0x33, 0xff}
	floor := color.RGBA{0x9a, 0xa5, 0xb1, 0xff}
	for y := range h {
		for x := range w {
			c := sky
			switch {
			case y > 180:
				c = floor
			case x >= 70 && x < 230 && y >= 60 && y < 180: // front
				c = box
				if x >= 140 && x < 160 {
					c = tape
				}
				if x >= 170 && x < 220 && y >= 120 && y < 160 {
					c = label
					if y >= 128 && (y-128)%8 < 2 && x >= 176 && x < 214 && y < 156 {
						c = ink
					}
				}
				// the torn corner
				if x < 70+(y-60)/2 && y < 100 && x-70 < 40-(y-60) {
					c = sky
				}
			case x >= 230 && x < 260 && y >= 60-(x-230)*2/3 && y < 180-(x-230)*2/3: // side
				c = side
			case y >= 40 && y < 60 && x >= 70+(60-y)*3/2 && x < 230+(60-y)*3/2: // top
				c = box
				if x >= 140+(60-y)*3/2 && x < 160+(60-y)*3/2 {
					c = tape
				}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
