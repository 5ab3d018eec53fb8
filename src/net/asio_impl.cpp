// The one translation unit that instantiates Asio, Asio.SSL and Beast (separate compilation).
// Everything else includes their headers with BOOST_*_SEPARATE_COMPILATION defined and links here.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
