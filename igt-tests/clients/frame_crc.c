// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime-frame-crc FILE: the CRC vprime's composer gives a CRTC showing the
 * XRGB8888 frame in FILE, opaque and filling the CRTC: crc32_le() from 0,
 * with no final inversion, over the rows as little-endian ARGB8888 with
 * alpha 0xff. Prints it as 8 hex digits.
 */

#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	uint32_t table[256], crc = 0;
	unsigned char px[4];
	FILE *f;

	if (argc != 2 || !(f = fopen(argv[1], "rb"))) {
		fprintf(stderr, "usage: vprime-frame-crc FILE (an XRGB8888 frame)\n");
		return 2;
	}
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
		table[i] = c;
	}
	while (fread(px, 1, 4, f) == 4) {
		px[3] = 0xff;
		for (int i = 0; i < 4; i++)
			crc = (crc >> 8) ^ table[(crc ^ px[i]) & 0xff];
	}
	fclose(f);
	printf("%08x\n", crc);
	return 0;
}
