package sample;

import java.util.List;

/** A greeter. */
public class Greeter {
    public static final int TIMES = 3;

    /**
     * Greet someone.
     * @param name who
     */
    public String greet(String name) {
        return "hi " + name;
    }
}

interface Named {
    String name();
}
