package SympaE2E::Util;

# Small helpers shared by the end-to-end suite.

use strict;
use warnings;
use Carp     qw(croak);
use Exporter qw(import);
use File::Temp;
use IPC::Open3  qw(open3);
use Time::HiRes qw(sleep time);

our @EXPORT_OK =
    qw(run_cmd try_cmd write_file read_file wait_until processes_in_sessions);

# Runs a command (array ref, no shell). Returns (exit status, stdout,
# stderr). Optional stdin => bytes.
sub try_cmd {
    my ($cmd, %opt) = @_;
    # stderr goes to a file, so that neither pipe can fill up and block.
    my $err = File::Temp->new;
    open my $errfh, '>&', $err or croak "dup: $!";
    my $pid = open3(my $in, my $out, '>&' . fileno($errfh), @$cmd);
    close $errfh;
    binmode $_ for $in, $out;
    {
        local $SIG{PIPE} = 'IGNORE';
        print $in $opt{stdin} if defined $opt{stdin};
        close $in;
    }
    my $stdout = do { local $/; <$out> }
        // '';
    waitpid $pid, 0;
    my $status = $? >> 8 | ($? & 127);
    my $stderr = read_file($err->filename);
    return ($status, $stdout, $stderr);
}

# Like try_cmd, but dies with the command's stderr when it fails.
sub run_cmd {
    my ($cmd, %opt) = @_;
    my ($rc, $stdout, $stderr) = try_cmd($cmd, %opt);
    croak sprintf "command failed (%d): %s\n%s", $rc, join(' ', @$cmd),
        $stderr
        if $rc;
    return $stdout;
}

sub write_file {
    my ($path, $content, $mode) = @_;
    open my $fh, '>:raw', $path or croak "$path: $!";
    print $fh $content;
    close $fh or croak "$path: $!";
    chmod $mode, $path if defined $mode;
    return $path;
}

sub read_file {
    my $path = shift;
    open my $fh, '<:raw', $path or croak "$path: $!";
    local $/;
    return scalar <$fh>;
}

# Polls $cond every 0.2 s until it returns true or $seconds have passed.
# Returns the condition's last value.
sub wait_until {
    my ($seconds, $cond) = @_;
    my $deadline = time + $seconds;
    while (1) {
        my $ok = $cond->();
        return $ok if $ok or time > $deadline;
        sleep 0.2;
    }
}

# Every process of the sessions @sids: pid => [ppid, command name, state]
# (state as ps shows it: Z for a zombie).
sub processes_in_sessions {
    my %sid = map { $_ => 1 } @_;
    my %procs;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh> // next;
        # pid (comm) state ppid pgrp session ...
        my ($pid, $comm, $rest) = $line =~ /^(\d+) \((.*)\) (.*)$/s or next;
        my ($state, $ppid, undef, $session) = split ' ', $rest;
        $procs{$pid} = [$ppid, $comm, $state] if $sid{$session};
    }
    return \%procs;
}

1;
__END__

=head1 NAME

SympaE2E::Util - command runner, file and polling helpers for the e2e suite

=head1 FUNCTIONS

C<try_cmd(\@cmd, stdin =E<gt> $bytes)>, C<run_cmd(...)> (dies on failure),
C<write_file($path, $bytes [, $mode])>, C<read_file($path)>,
C<wait_until($seconds, \&cond)>,
C<processes_in_sessions(@session_ids)> (pid =E<gt> [ppid, command name,
state]).

=cut
