"""Makes DejaVuSans-Unhinted.ttf from DejaVu Sans 2.37 (the `dejavu` crate's copy):
every glyph, the cmap and the layout tables as they are; without the TrueType hinting
(instructions, cvt, fpgm, prep) and with only name records 0-6, under the family name
"DejaVu Sans Unhinted". A PDF embeds a subset of the glyf, hinting and name tables: without
hinting and the long license record that subset is a third of the size, and deflating it was
a fifth of a certificate's rendering. The glyph outlines and advances are unchanged.

Run with fontTools 4.68:  python3 make-unhinted.py DejaVuSans.ttf DejaVuSans-Unhinted.ttf
"""
import sys
from fontTools import subset
from fontTools.ttLib import TTFont

src, out = sys.argv[1], sys.argv[2]
opts = subset.Options()
opts.glyph_names = False
opts.hinting = False
opts.name_IDs = [0, 1, 2, 3, 4, 5, 6]
opts.name_languages = ["*"]
opts.layout_features = ["*"]
opts.notdef_outline = True
opts.legacy_kern = True
opts.drop_tables += ["FFTM"]
font = TTFont(src)
sub = subset.Subsetter(opts)
sub.populate(glyphs=font.getGlyphOrder(), unicodes=font.getBestCmap().keys())
sub.subset(font)
# Bitstream Vera's licence: a modified font takes a name without "Bitstream" or "Vera".
family = "DejaVu Sans Unhinted"
for rec in font["name"].names:
    if rec.nameID in (1, 3, 4):
        rec.string = family
    elif rec.nameID == 6:
        rec.string = "DejaVuSansUnhinted"
font["head"].modified = font["head"].created  # deterministic: no build time in the font
font.save(out, reorderTables=True)
