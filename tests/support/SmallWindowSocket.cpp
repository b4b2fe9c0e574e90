#include "SmallWindowSocket.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

namespace peerchat::test {

Poco::Net::StreamSocket smallWindowSocket(const std::string& bindHost)
{
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress(bindHost, 0).family());
    // Both before connect: the window and the segment size are agreed in the
    // handshake, and the server sizes its send buffer from the segment size.
    socket.setReceiveBufferSize(1);
    socket.setOption(IPPROTO_TCP, TCP_MAXSEG, 536);
    socket.impl()->bind(Poco::Net::SocketAddress(bindHost, 0), false);
    return socket;
}

} // namespace peerchat::test
