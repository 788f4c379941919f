package dev.lamina.actors;

/** Marker for messages and events serialised with Jackson CBOR (bound in reference.conf). */
public interface CborSerializable {}
