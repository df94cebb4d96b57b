package Test::Nginx::Socket::Lua;

# Thin subclass of Lunet's Test::Nginx::Socket so that files starting with
# "use Test::Nginx::Socket::Lua;" run unchanged.  init_by_lua_block and
# every other section are handled by the base class.

use strict;
use warnings;

use Test::Nginx::Socket ();

our @ISA = ('Test::Nginx::Socket');
our @EXPORT = ();    # everything comes from Test::Nginx::Socket's @EXPORT
our $VERSION = $Test::Nginx::Socket::VERSION;

# Test::Base looks up "<class>::Filter" for the filter class.
package Test::Nginx::Socket::Lua::Filter;
our @ISA = ('Test::Nginx::Socket::Filter');

1;
