#!/bin/sh
# Tell the planner which nodes are edge devices and what they can do. Labels:
#   edgesplit.io/edge=true             the planner only places partitions here
#   edgesplit.io/gflops=N              sustained GFLOPS on the model's convolutions
#                                      (default: 2 per allocatable CPU core)
#   edgesplit.io/bandwidth-mbps=N      access-link bandwidth (default 100)
#   edgesplit.io/latency-ms=N          one-way link latency (default 1)
# Changing a label makes the planner re-plan (debounced). Measure gflops with
# `edgesplit serve partition` (Describe reports a measured figure) or `edgesplit bench`.
set -eu
# Raspberry Pi 4 (4x Cortex-A72) on gigabit Ethernet
kubectl label node pi-1 edgesplit.io/edge=true edgesplit.io/gflops=6 edgesplit.io/bandwidth-mbps=300 edgesplit.io/latency-ms=1 --overwrite
kubectl label node pi-2 edgesplit.io/edge=true edgesplit.io/gflops=6 edgesplit.io/bandwidth-mbps=300 edgesplit.io/latency-ms=1 --overwrite
# Jetson Nano-class board on Wi-Fi
kubectl label node jetson-1 edgesplit.io/edge=true edgesplit.io/gflops=12 edgesplit.io/bandwidth-mbps=40 edgesplit.io/latency-ms=4 --overwrite
# An x86 mini PC: only mark it as edge, its allocatable CPU gives the estimate
kubectl label node nuc-1 edgesplit.io/edge=true --overwrite
# Take a node out of the plan (the planner moves its partition elsewhere)
# kubectl label node pi-2 edgesplit.io/edge-
# Edge nodes reserved for edgesplit: taint them, and give the chart the toleration
# (partition.tolerations: [{key: edgesplit.io/edge, operator: Exists, effect: NoSchedule}])
# kubectl taint node pi-1 edgesplit.io/edge=true:NoSchedule
kubectl get nodes -L edgesplit.io/edge,edgesplit.io/gflops,edgesplit.io/bandwidth-mbps,edgesplit.io/latency-ms
