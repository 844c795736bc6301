package com.example.untrusted;

/** An interface outside the packages a node allows by default, for proxies in tests. */
public interface Hook {
    void run();
}
