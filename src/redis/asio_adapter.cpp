// SPDX-License-Identifier: MIT
// hiredis ↔ Asio adapter.
#include "redis/asio_adapter.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>

#include <hiredis/async.h>

#include <memory>

namespace ssecast::redis {

namespace net = boost::asio;

namespace {

/// One per attached context. `ac` is null once hiredis called cleanup.
struct Watch : std::enable_shared_from_this<Watch> {
    Watch(net::io_context& ioc, redisAsyncContext* c, int fd) : ac(c), stream(ioc, fd) {}

    redisAsyncContext* ac;
    net::posix::stream_descriptor stream;
    bool want_read = false, want_write = false;   // what hiredis asked for
    bool read_armed = false, write_armed = false; // a wait is in flight

    void arm_read() {
        if (read_armed || ac == nullptr) {
            return;
        }
        read_armed = true;
        stream.async_wait(net::posix::stream_descriptor::wait_read,
                          [self = shared_from_this()](boost::system::error_code ec) {
                              self->read_armed = false;
                              if (ec || self->ac == nullptr || !self->want_read) {
                                  return;
                              }
                              redisAsyncHandleRead(self->ac); // may run cleanup
                              if (self->ac != nullptr && self->want_read) {
                                  self->arm_read();
                              }
                          });
    }

    void arm_write() {
        if (write_armed || ac == nullptr) {
            return;
        }
        write_armed = true;
        stream.async_wait(net::posix::stream_descriptor::wait_write,
                          [self = shared_from_this()](boost::system::error_code ec) {
                              self->write_armed = false;
                              if (ec || self->ac == nullptr || !self->want_write) {
                                  return;
                              }
                              redisAsyncHandleWrite(self->ac); // may run cleanup
                              if (self->ac != nullptr && self->want_write) {
                                  self->arm_write();
                              }
                          });
    }
};

/// hiredis keeps a raw pointer; it owns one reference until cleanup.
using Holder = std::shared_ptr<Watch>;

Watch& watch_of(void* privdata) {
    return **static_cast<Holder*>(privdata);
}

void add_read(void* privdata) {
    auto& w = watch_of(privdata);
    w.want_read = true;
    w.arm_read();
}

void del_read(void* privdata) {
    watch_of(privdata).want_read = false;
}

void add_write(void* privdata) {
    auto& w = watch_of(privdata);
    w.want_write = true;
    w.arm_write();
}

void del_write(void* privdata) {
    watch_of(privdata).want_write = false;
}

void cleanup(void* privdata) {
    auto* holder = static_cast<Holder*>(privdata);
    auto& w = **holder;
    w.ac->ev.data = nullptr;
    w.ac = nullptr;
    w.want_read = w.want_write = false;
    boost::system::error_code ignored;
    w.stream.cancel(ignored);
    // hiredis closes the fd itself right after this hook: only give up ownership.
    (void)w.stream.release();
    delete holder; // pending waits still hold their own references
}

} // namespace

bool attach(redisAsyncContext* ac, net::io_context& ioc) {
    if (ac->ev.data != nullptr || ac->c.fd < 0) {
        return false;
    }
    auto* holder = new Holder(std::make_shared<Watch>(ioc, ac, ac->c.fd));
    ac->ev.data = holder;
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    return true;
}

} // namespace ssecast::redis
