# Lab 12-1 hello RNN: teach a BasicLSTMCell to continue "hihell" as "ihello", one character at a time.
# The loss goes to ./logs/rnn_hello (--logdir) with the graph; look at it with:  board --logdir ./logs
import argparse

import numpy as np
import summaries as tf

parser = argparse.ArgumentParser(description="Lab 12-1: hello RNN (BasicLSTMCell + dynamic_rnn)")
parser.add_argument("--steps", type=int, default=50, help="training steps")
parser.add_argument("--logdir", default="./logs/rnn_hello")
args = parser.parse_args()

tf.set_random_seed(777)  # reproducibility

idx2char = ['h', 'i', 'e', 'l', 'o']  # the five letters of the task
# input "hihell", target "ihello": each position must predict the next letter
x_data = [[0, 1, 0, 2, 3, 3]]   # h i h e l l
x_one_hot = [[[1, 0, 0, 0, 0],   # h 0
              [0, 1, 0, 0, 0],   # i 1
              [1, 0, 0, 0, 0],   # h 0
              [0, 0, 1, 0, 0],   # e 2
              [0, 0, 0, 1, 0],   # l 3
              [0, 0, 0, 1, 0]]]  # l 3

y_data = [[1, 0, 2, 3, 3, 4]]    # i h e l l o

num_classes = 5
input_dim = 5  # letters are one-hot vectors
hidden_size = 5  # LSTM units
batch_size = 1   # a single sequence
sequence_length = 6  # letters per sequence
learning_rate = 0.1

X = tf.placeholder(tf.float32, [None, sequence_length, input_dim])  # one-hot letters
Y = tf.placeholder(tf.int32, [None, sequence_length])  # next-letter indices

cell = tf.contrib.rnn.BasicLSTMCell(num_units=hidden_size, state_is_tuple=True)
initial_state = cell.zero_state(batch_size, tf.float32)
outputs, _states = tf.nn.dynamic_rnn(cell, X, initial_state=initial_state, dtype=tf.float32)

# a dense layer maps each time step's LSTM output to letter scores
X_for_fc = tf.reshape(outputs, [-1, hidden_size])
outputs = tf.contrib.layers.fully_connected(inputs=X_for_fc, num_outputs=num_classes, activation_fn=None)

# back to [batch, time, classes], the shape sequence_loss takes
outputs = tf.reshape(outputs, [batch_size, sequence_length, num_classes])

weights = tf.ones([batch_size, sequence_length])
sequence_loss = tf.contrib.seq2seq.sequence_loss(logits=outputs, targets=Y, weights=weights)
loss = tf.reduce_mean(sequence_loss)
tf.summary.scalar("loss", loss)
train = tf.train.AdamOptimizer(learning_rate=learning_rate).minimize(loss)

prediction = tf.argmax(outputs, axis=2)
merged = tf.summary.merge_all()

with tf.Session() as sess:
    writer = tf.summary.FileWriter(args.logdir, sess.graph)
    sess.run(tf.global_variables_initializer())
    for i in range(args.steps):
        summary, l, _ = sess.run([merged, loss, train], feed_dict={X: x_one_hot, Y: y_data})
        writer.add_summary(summary, global_step=i)
        result = sess.run(prediction, feed_dict={X: x_one_hot})
        print(i, "loss:", l, "prediction: ", result, "true Y: ", y_data)

        # the predicted letters as a string
        result_str = [idx2char[c] for c in np.squeeze(result)]
        print("\tPrediction str: ", ''.join(result_str))
    writer.close()
