#include "IndexIdentity.h"

#include <sodium.h>

#include <utility>

namespace peerchat {

IndexIdentity::IndexIdentity(SigningKey key) : _key(std::move(key)), _kx(KxKeyPair::generate())
{
    randombytes_buf(_epoch.data(), _epoch.size());
}

} // namespace peerchat
