# SPDX-License-Identifier: MIT
# Plots bench/soak.py's CSV: RSS and open fds (top), p50/p99 publish→receive latency
# (bottom). gnuplot -e "csv='build/soak/soak.csv'; out='build/soak/soak.png'" bench/soak.gp
if (!exists("csv")) csv = 'build/soak/soak.csv'
if (!exists("out")) out = 'build/soak/soak.png'
if (!exists("title_text")) title_text = 'ssecast soak'

set terminal pngcairo size 1100,800 font ",10"
set output out
set datafile separator ","
set key autotitle columnhead bottom right opaque box
set grid
set multiplot layout 2,1 title title_text

set xlabel "time (s)"
set ylabel "RSS (MiB)"
set y2label "open fds / open streams"
set yrange [0:*]
set y2range [0:*]
set ytics nomirror
set y2tics
plot csv using 1:($2/1024) with linespoints lw 2 title "server RSS (MiB)", \
     csv using 1:3 axes x1y2 with linespoints title "server open fds", \
     csv using 1:4 axes x1y2 with lines dt 2 title "open streams (/metrics)"

unset y2label
unset y2tics
set ytics mirror
set ylabel "latency (ms)"
set logscale y
set yrange [*:*]
plot csv using 1:5 with linespoints lw 2 title "p50 publish→receive", \
     csv using 1:6 with linespoints lw 2 title "p99 publish→receive"
unset multiplot
