// SPDX-License-Identifier: GPL-2.0
/*
 * MSI routes and doorbells on KVM (see irq.h). KVM_SET_GSI_ROUTING
 * replaces the whole table, so the table kept here always starts with
 * KVM's default legacy routes, then one entry per MSI route.
 *
 * A masked route has its irqfd deassigned: the device's eventfd writes
 * then add up in the eventfd, and assigning it again on unmask makes KVM
 * deliver the pending interrupt at once.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "lib/err.h"
#include "vmm/irq.h"

#define LEGACY_GSIS	24	/* IOAPIC pins; the first 16 also reach the PICs */
#define PIC_GSIS	16
#define MSI_ROUTES_MAX	1024
#define TABLE_MAX	(LEGACY_GSIS + PIC_GSIS + MSI_ROUTES_MAX)

struct msi_route {
	int fd;
	bool has_msg;		/* in the routing table */
	bool irqfd;		/* assigned (unmasked) */
	uint64_t addr;
	uint32_t data;
};

struct vm_irq {
	int vm_fd;
	pthread_mutex_t lock;
	int nroutes;
	struct msi_route routes[MSI_ROUTES_MAX];
	struct kvm_irq_routing *table;
	void (*on_error)(void *ctx, const char *msg);
	void *ctx;
	struct msi_ops msi;
	struct doorbell_ops doorbells;
	struct intx_ops intx;
};

static uint32_t route_gsi(int handle)
{
	return LEGACY_GSIS + (uint32_t)handle;
}

/* Returns -1, after telling the VMM (it ends the VM). */
static int fail(struct vm_irq *irq, const char *what, int handle)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "%s for MSI route %d (GSI %u) failed: %s", what, handle,
		 route_gsi(handle), strerror(errno));
	irq->on_error(irq->ctx, msg);
	return -1;
}

/* KVM's own default: GSI n to IOAPIC pin n, and n < 16 to the PIC pin too. */
static int legacy_entries(struct kvm_irq_routing_entry *e)
{
	int n = 0;

	for (uint32_t gsi = 0; gsi < LEGACY_GSIS; gsi++) {
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi },
		};
		if (gsi < PIC_GSIS)
			e[n++] = (struct kvm_irq_routing_entry){
				.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = {
					.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
							     KVM_IRQCHIP_PIC_SLAVE,
					.pin = gsi % 8,
				},
			};
	}
	return n;
}

static int push_table(struct vm_irq *irq)
{
	struct kvm_irq_routing_entry *e = irq->table->entries;
	int n = legacy_entries(e);

	for (int h = 0; h < irq->nroutes; h++) {
		const struct msi_route *r = &irq->routes[h];

		if (!r->has_msg)
			continue;
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = route_gsi(h), .type = KVM_IRQ_ROUTING_MSI,
			.u.msi = {
				.address_lo = (uint32_t)r->addr,
				.address_hi = (uint32_t)(r->addr >> 32),
				.data = r->data,
			},
		};
	}
	irq->table->nr = (uint32_t)n;
	irq->table->flags = 0;
	return ioctl(irq->vm_fd, KVM_SET_GSI_ROUTING, irq->table);
}

static int set_irqfd(struct vm_irq *irq, int handle, bool assign)
{
	struct kvm_irqfd req = {
		.fd = (uint32_t)irq->routes[handle].fd,
		.gsi = route_gsi(handle),
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (irq->routes[handle].irqfd == assign)
		return 0;
	if (ioctl(irq->vm_fd, KVM_IRQFD, &req))
		return -1;
	irq->routes[handle].irqfd = assign;
	return 0;
}

static int route_add(void *ctx, int *fd)
{
	struct vm_irq *irq = ctx;
	int handle, efd;

	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return err_set_errno("cannot make an interrupt eventfd");
	pthread_mutex_lock(&irq->lock);
	if (irq->nroutes == MSI_ROUTES_MAX) {
		pthread_mutex_unlock(&irq->lock);
		close(efd);
		return err_set("the VM has %d MSI routes already: give it fewer devices or queues",
			       MSI_ROUTES_MAX);
	}
	handle = irq->nroutes++;
	irq->routes[handle] = (struct msi_route){ .fd = efd };
	pthread_mutex_unlock(&irq->lock);
	*fd = efd;
	return handle;
}

static int route_set(void *ctx, int handle, uint64_t addr, uint32_t data, bool masked)
{
	struct vm_irq *irq = ctx;
	struct msi_route *r;
	int ret = 0;

	pthread_mutex_lock(&irq->lock);
	if (handle < 0 || handle >= irq->nroutes) {
		pthread_mutex_unlock(&irq->lock);
		return -1;
	}
	r = &irq->routes[handle];
	if (masked) {
		if (set_irqfd(irq, handle, false))
			ret = fail(irq, "KVM_IRQFD (deassign)", handle);
	} else {
		if (!r->has_msg || r->addr != addr || r->data != data) {
			r->addr = addr;
			r->data = data;
			r->has_msg = true;
			if (push_table(irq))
				ret = fail(irq, "KVM_SET_GSI_ROUTING", handle);
		}
		if (!ret && set_irqfd(irq, handle, true))
			ret = fail(irq, "KVM_IRQFD", handle);
	}
	pthread_mutex_unlock(&irq->lock);
	return ret;
}

void vm_irq_line(void *ctx, int line, int level)
{
	struct vm_irq *irq = ctx;
	struct kvm_irq_level req = { .irq = (uint32_t)line, .level = (uint32_t)level };
	char msg[96];

	if (!ioctl(irq->vm_fd, KVM_IRQ_LINE, &req))
		return;
	snprintf(msg, sizeof(msg), "cannot drive IRQ %d: %s", line, strerror(errno));
	irq->on_error(irq->ctx, msg);
}

static int doorbell_set(void *ctx, uint64_t addr, unsigned int len, int fd, bool assign)
{
	struct vm_irq *irq = ctx;
	struct kvm_ioeventfd req = {
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	if (ioctl(irq->vm_fd, KVM_IOEVENTFD, &req))
		return err_set_errno("KVM_IOEVENTFD at %#llx failed", (unsigned long long)addr);
	return 0;
}

static int intx_set(void *ctx, int gsi, int fd, int resample_fd, bool assign)
{
	struct vm_irq *irq = ctx;
	struct kvm_irqfd req = {
		.fd = (uint32_t)fd,
		.gsi = (uint32_t)gsi,
		.flags = assign ? KVM_IRQFD_FLAG_RESAMPLE : KVM_IRQFD_FLAG_DEASSIGN,
		.resamplefd = assign ? (uint32_t)resample_fd : 0,
	};

	if (ioctl(irq->vm_fd, KVM_IRQFD, &req))
		return err_set_errno("KVM_IRQFD (%s, resampling) on GSI %d failed",
				     assign ? "assign" : "deassign", gsi);
	return 0;
}

struct vm_irq *vm_irq_create(int vm_fd, void (*on_error)(void *ctx, const char *msg),
			     void *ctx)
{
	struct vm_irq *irq = calloc(1, sizeof(*irq));

	if (irq)
		irq->table = calloc(1, sizeof(*irq->table) +
				       TABLE_MAX * sizeof(struct kvm_irq_routing_entry));
	if (!irq || !irq->table) {
		free(irq);
		err_set("out of memory for the interrupt routes");
		return NULL;
	}
	pthread_mutex_init(&irq->lock, NULL);
	irq->vm_fd = vm_fd;
	irq->on_error = on_error;
	irq->ctx = ctx;
	irq->msi = (struct msi_ops){ .route_add = route_add, .route_set = route_set, .ctx = irq };
	irq->doorbells = (struct doorbell_ops){ .set = doorbell_set, .ctx = irq };
	irq->intx = (struct intx_ops){ .set = intx_set, .ctx = irq };
	return irq;
}

const struct msi_ops *vm_irq_msi(struct vm_irq *irq)
{
	return &irq->msi;
}

const struct doorbell_ops *vm_irq_doorbells(struct vm_irq *irq)
{
	return &irq->doorbells;
}

const struct intx_ops *vm_irq_intx(struct vm_irq *irq)
{
	return &irq->intx;
}

void vm_irq_destroy(struct vm_irq *irq)
{
	if (!irq)
		return;
	for (int h = 0; h < irq->nroutes; h++) {
		set_irqfd(irq, h, false);
		close(irq->routes[h].fd);
	}
	pthread_mutex_destroy(&irq->lock);
	free(irq->table);
	free(irq);
}
