# The differential corpus against Debian's nginx: t/diff/nginx-diff prints TAP,
# one test per case of t/diff/corpus.txt, and fails on a difference that
# t/diff/allow.txt does not explain. Lunet is TEST_NGINX_BINARY (default
# build/release/lunet).
use strict;
use warnings;
use FindBin;
exec $^X, "$FindBin::Bin/nginx-diff" or die "exec nginx-diff: $!\n";
