import NIOCore

enum ByteBufferMaker {
    static func make(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }
}
