// Compiled only with DYNJOBS_ASIO_SEPARATE_COMPILATION: the one instance of Asio, Asio.SSL and
// Beast that every translation unit of the program then links to, instead of inlining them.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
