package dev.lamina.actors;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdScalarSerializer;
import java.io.IOException;
import org.apache.pekko.util.ByteString;

/**
 * Lets Jackson carry Pekko {@link ByteString}s (invocation payloads and results) between nodes: as
 * a CBOR byte string, written straight from the ByteString's bytes and read back without a second
 * copy. Registered for Pekko's Jackson serializers in reference.conf.
 */
public final class ByteStringJacksonModule extends SimpleModule {

  public ByteStringJacksonModule() {
    super("lamina-bytestring");
    addSerializer(ByteString.class, new Writer());
    addDeserializer(ByteString.class, new Reader());
  }

  private static final class Writer extends StdScalarSerializer<ByteString> {
    Writer() {
      super(ByteString.class);
    }

    @Override
    public void serialize(ByteString value, JsonGenerator gen, SerializerProvider provider) throws IOException {
      gen.writeBinary(value.toArrayUnsafe());
    }
  }

  private static final class Reader extends StdScalarDeserializer<ByteString> {
    Reader() {
      super(ByteString.class);
    }

    @Override
    public ByteString deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
      return ByteString.fromArrayUnsafe(p.getBinaryValue());
    }
  }
}
