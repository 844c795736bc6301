package org.openmrs.module.cluster.jcache;

import javax.cache.processor.EntryProcessorException;
import javax.cache.processor.EntryProcessorResult;

/** What {@code invokeAll}'s processor returned for one key, or the exception it ended with. */
final class ProcessorResult<T> implements EntryProcessorResult<T> {

    private final T result;
    private final EntryProcessorException failure;

    private ProcessorResult(T result, EntryProcessorException failure) {
        this.result = result;
        this.failure = failure;
    }

    static <T> ProcessorResult<T> of(T result) {
        return new ProcessorResult<T>(result, null);
    }

    static <T> ProcessorResult<T> failed(EntryProcessorException failure) {
        return new ProcessorResult<T>(null, failure);
    }

    @Override
    public T get() {
        if (failure != null) {
            throw failure;
        }
        return result;
    }
}
